package screening

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/phytoscreen/phytoscreen/internal/sigfig"
)

// Sample describes the water sample being screened. VolumeML and Factor turn a count
// into a concentration: cells/L = count / (VolumeML/1000) x Factor.
type Sample struct {
	ID    string    `json:"id"`              // unique within a session store
	Site  string    `json:"site,omitempty"`  // where it was taken
	Taken time.Time `json:"taken"`           // when it was taken (or, by default, when screening began)
	Notes string    `json:"notes,omitempty"` // free text

	// VolumeML is the volume of liquid actually examined under the microscope, in
	// millilitres (for a Sedgewick-Rafter chamber fully scanned, 1 mL).
	VolumeML float64 `json:"volume_ml"`
	// Factor converts the examined liquid back to the original water: the dilution
	// factor when the sample was diluted (10 for 1+9), or 1/concentration factor when it
	// was concentrated (0.1 when 1 L was settled to 100 mL). 1 when examined as taken.
	Factor float64 `json:"factor"`
	// Lat and Lon are the site's position in decimal degrees; NaN when unknown (and then
	// left out of JSON).
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// DepthM is the sampling depth in metres; NaN when not recorded. Analyst is who
	// prepared and screened the sample.
	DepthM  float64 `json:"depth_m"`
	Analyst string  `json:"analyst,omitempty"`
}

// MarshalJSON writes the sample, leaving out an unknown position (JSON has no NaN).
func (s Sample) MarshalJSON() ([]byte, error) {
	type plain Sample
	out := struct {
		plain
		Lat    *float64 `json:"lat,omitempty"`
		Lon    *float64 `json:"lon,omitempty"`
		DepthM *float64 `json:"depth_m,omitempty"`
	}{plain: plain(s)}
	if s.HasPosition() {
		out.Lat, out.Lon = &s.Lat, &s.Lon
	}
	if s.HasDepth() {
		out.DepthM = &s.DepthM
	}
	return json.Marshal(out)
}

// NewSample returns a sample with the defaults: 1 mL examined, factor 1, taken now,
// position unknown.
func NewSample(id string) Sample {
	return Sample{ID: id, Taken: time.Now(), VolumeML: 1, Factor: 1, Lat: math.NaN(), Lon: math.NaN(), DepthM: math.NaN()}
}

// HasDepth reports whether the sampling depth was recorded.
func (s Sample) HasDepth() bool { return !math.IsNaN(s.DepthM) }

// HasPosition reports whether the sample's position is known.
func (s Sample) HasPosition() bool { return !math.IsNaN(s.Lat) && !math.IsNaN(s.Lon) }

// Litres is the volume examined in litres.
func (s Sample) Litres() float64 { return s.VolumeML / 1000 }

// CompanionMark joins a sample's ID and what a companion sample screened with other
// settings differs by (S-1~base: the same water, screen --keep-apart).
const CompanionMark = "~"

// CheckGivenID refuses a sample ID a person typed that holds CompanionMark: phytoscreen
// keeps it for companion samples, and an ID typed so was taken for one (helper-77: a
// sample A~2 at ALERT left the programme's weekly report as A's companion, and a
// companion joined a sample someone had named K~base).
func CheckGivenID(id string) error {
	if strings.Contains(id, CompanionMark) {
		return fmt.Errorf("sample ID %q contains %q, which phytoscreen keeps for a sample's companion (S-1~base: the same water screened with another model, --keep-apart): use another character, such as - or _", id, CompanionMark)
	}
	return nil
}

// Validate checks what the concentration depends on; each error says the fix.
func (s Sample) Validate() error {
	var errs []error
	if strings.TrimSpace(s.ID) == "" {
		errs = append(errs, errors.New("sample ID is empty: give one (e.g. the bottle label)"))
	}
	if strings.ContainsAny(s.ID, "\t\n\r/\\") {
		errs = append(errs, fmt.Errorf("sample ID %q contains a tab, newline or slash: exports use it in file names and TSV cells; remove them", s.ID))
	}
	if !utf8.ValidString(s.ID) {
		// The PDF report's title panicked in its UTF-16 conversion on one (helper-82).
		errs = append(errs, fmt.Errorf("sample ID %q is not UTF-8 text (the terminal's encoding is another, or the bytes were pasted from a binary file): retype it", s.ID))
	} else if base, _, _ := strings.Cut(s.ID, CompanionMark); utf8.RuneCountInString(base) > MaxIDLength || len(s.ID) > maxIDBytes {
		// A companion's ID (ID~base) may pass the length its own ID was held to.
		n := utf8.RuneCountInString(s.ID)
		// 5,000 characters were taken, and the EcoTaxa zip named after the sample could
		// not be unpacked ("filename too long", helper-82): a file name holds 255 bytes.
		errs = append(errs, fmt.Errorf("sample ID of %d characters (%d bytes) is too long: exports name files after it; give at most %d characters (a bottle label, such as POND-3-2026-12-07)", n, len(s.ID), MaxIDLength))
	}
	if strings.ContainsAny(s.Site, "\t\n\r") {
		// A site typed over two lines made an ID that was refused in its place, naming an
		// ID no one had given (helper-68); one line also keeps the site's trend whole.
		errs = append(errs, fmt.Errorf("site %q contains a tab or a line break: write it on one line", s.Site))
	}
	if !utf8.ValidString(s.Site) {
		errs = append(errs, fmt.Errorf("site %q is not UTF-8 text (the terminal's encoding is another?): retype it", s.Site))
	} else if n := utf8.RuneCountInString(s.Site); n > MaxSiteLength {
		// 1,000 characters grew the window past the screen, ran off the PDF's page and
		// filled every dialog that names the site (helper-86).
		errs = append(errs, fmt.Errorf("site of %d characters is too long: give at most %d (the place, such as Loch Creran, mussel line 3); put the rest in the notes", n, MaxSiteLength))
	}
	if !(s.VolumeML >= MinVolumeML && s.VolumeML <= MaxVolumeML) {
		errs = append(errs, fmt.Errorf("volume examined %v mL: it must be from %g to %g millilitres (1 for a full Sedgewick-Rafter chamber)", s.VolumeML, MinVolumeML, MaxVolumeML))
	}
	if !(s.Factor >= MinFactor && s.Factor <= MaxFactor) {
		errs = append(errs, fmt.Errorf("factor %v: it must be from %g to %g (1 when the sample was examined as taken, 10 when diluted 1+9, 0.1 when concentrated tenfold)", s.Factor, MinFactor, MaxFactor))
	}
	if s.HasDepth() && (s.DepthM < 0 || s.DepthM > 11000 || math.IsInf(s.DepthM, 0)) {
		errs = append(errs, fmt.Errorf("depth %v m: give the sampling depth in metres below the surface (0 for a surface sample)", s.DepthM))
	}
	if s.HasPosition() && (math.Abs(s.Lat) > 90 || math.Abs(s.Lon) > 180) {
		errs = append(errs, fmt.Errorf("position %v,%v is not decimal degrees (latitude -90..90, longitude -180..180)", s.Lat, s.Lon))
	}
	return errors.Join(errs...)
}

// MostExaminedML is the most a microscope examines at once: an Utermöhl chamber settles
// up to 100 mL, a Sedgewick-Rafter chamber holds 1, a haemocytometer a ten-thousandth.
// A larger volume is allowed (a flow imager's whole bottle) but questioned.
const MostExaminedML = 100

// Doubts lists what is allowed but probably a typing mistake, each with its check: a
// volume examined over MostExaminedML makes every concentration that many times smaller
// (1,000,000 mL for 1 read 0.014 cells/L, under every alert level, with no word).
func (s Sample) Doubts() []string {
	var out []string
	if s.VolumeML > MostExaminedML {
		out = append(out, fmt.Sprintf("%s mL examined is more than a microscope examines at once (a Sedgewick-Rafter chamber holds 1 mL, an Utermöhl chamber settles up to 100): check the volume; every concentration is per litre of it, so a volume too large reads as too few cells and may hide an alert",
			sigfig.Plain(s.VolumeML, 6))) // a partial run's share: 472.222, not 472.22222222222223
	}
	return out
}

// MaxIDLength is the longest sample ID, in characters, and maxIDBytes in bytes (a
// character takes 1 to 4): exports and the report name files after it, with a suffix,
// and a file name holds 255 bytes.
const (
	MaxIDLength = 64
	maxIDBytes  = 200
)

// MaxSiteLength is the longest site name, in characters: a site names a place, shown in
// headers, lists, the report and the trend's title.
const MaxSiteLength = 120

// Physical bounds of a sample's volume and factor: a microlitre to a cubic metre, a
// millionfold either way. Beyond them a value is a typing mistake, and it would print
// absurd or infinite concentrations.
const (
	MinVolumeML, MaxVolumeML = 1e-6, 1e6
	MinFactor, MaxFactor     = 1e-6, 1e6
)

// Concentration is a count turned into cells per litre of the original water, with its
// exact (Garwood) Poisson confidence interval.
type Concentration struct {
	Count int     `json:"count"`
	PerL  float64 `json:"cells_per_l"`
	Low   float64 `json:"ci_low"`  // lower bound of the 95% interval, cells/L
	High  float64 `json:"ci_high"` // upper bound of the 95% interval, cells/L
	// Limit is what one object counted stands for, per litre: the detection limit of
	// the volume examined (alerts.Measure.Limit).
	Limit float64 `json:"detection_limit_per_l"`
}

// PerLFactor is what one object counted stands for in the sample, per litre.
func (s Sample) PerLFactor() float64 { return 1000 / s.VolumeML * s.Factor }

// Concentration converts count cells seen in the examined volume into cells/L with the
// 95% exact Poisson interval (the count is Poisson; volume and factor are exact).
func (s Sample) Concentration(count int) Concentration {
	k := s.PerLFactor()
	lo, hi := PoissonCI(count, 0.95)
	return Concentration{Count: count, PerL: float64(count) * k, Low: lo * k, High: hi * k, Limit: k}
}
