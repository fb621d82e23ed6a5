package teach

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/imagefile"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/store"
)

// Example is one labelled crop to learn from.
type Example struct {
	Label string
	// Source says where the crop came from, for messages and the pack card: a file's path,
	// "object 12 of sessions.db", "built-in sample acantharia_protist/1.jpg".
	Source string
	// OldLabel is the label the pack gave the crop when it was screened, when known (a
	// store's object); teaching computes its own.
	OldLabel string
	// key names the crop in the embeddings cache; "" until the bytes are read (then the
	// SHA-256 of the bytes).
	key  string
	read func() ([]byte, error) // the encoded image
}

// FileExample is an image file with its label.
func FileExample(path, label string) Example {
	return Example{Label: label, Source: path, read: func() ([]byte, error) { return os.ReadFile(path) }}
}

// BytesExample is an encoded image held in memory (a store's crop, a file of an archive);
// key, when not empty, names it in the cache instead of its content's hash.
func BytesExample(source, label, key string, data []byte) Example {
	return Example{Label: label, Source: source, key: key, read: func() ([]byte, error) { return data, nil }}
}

// contentKey is the cache key of an image's bytes.
func contentKey(data []byte) string {
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:])
}

// FromList reads a `path,label` CSV (the list `phytoscreen eval` reads; other columns
// are allowed, paths are relative to the list's folder).
func FromList(file string) ([]Example, error) {
	items, err := inference.ReadLabelList(file, "")
	if err != nil {
		return nil, err
	}
	out := make([]Example, len(items))
	for i, it := range items {
		out[i] = FileExample(it.Path, it.Label)
	}
	return out, nil
}

// FromFolder reads a folder of labelled crops: each subfolder is a label, and the images
// in it (at any depth) its crops. Images directly in the folder have no label and are an
// error.
func FromFolder(dir string) ([]Example, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("labelled crops %s: %w", dir, err)
	}
	var out []Example
	for _, e := range entries {
		if imagefile.IsSystemFile(e.Name()) {
			// A copy from a Mac or Windows machine: .Trashes is no taxon, and the
			// AppleDouble ._x.jpg no crop out of its folder.
			continue
		}
		if !e.IsDir() {
			if imagefile.IsImageName(e.Name()) {
				return nil, fmt.Errorf("labelled crops %s: %s is not in a subfolder, so it has no label: move it into a folder named after its taxon", dir, e.Name())
			}
			continue
		}
		label := e.Name()
		files, problems := imagefile.Collect([]string{filepath.Join(dir, label)})
		if len(problems) > 0 {
			return nil, fmt.Errorf("labelled crops %s: %s: %v", dir, problems[0].Path, problems[0].Err)
		}
		for _, f := range files {
			out = append(out, FileExample(f, label))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("labelled crops %s: no images in subfolders: put each taxon's crops in a folder named after it", dir)
	}
	return out, nil
}

// FromEcoTaxa reads an EcoTaxa export: its TSV (img_file_name, object_annotation_category,
// and object_annotation_status when present, of which only validated rows teach), or the
// zip phytoscreen's export writes (the TSV and the crops inside it).
func FromEcoTaxa(file string) ([]Example, error) {
	if strings.EqualFold(filepath.Ext(file), ".zip") {
		zr, err := zip.OpenReader(file)
		if err != nil {
			return nil, fmt.Errorf("EcoTaxa export %s: %w: give the zip phytoscreen or EcoTaxa wrote, or its .tsv", file, err)
		}
		defer zr.Close()
		var tsv string
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, ".tsv") {
				tsv = f.Name
				break
			}
		}
		if tsv == "" {
			return nil, fmt.Errorf("EcoTaxa export %s holds no .tsv table", file)
		}
		return readEcoTaxa(zr, tsv, file)
	}
	return readEcoTaxa(os.DirFS(filepath.Dir(file)), filepath.Base(file), file)
}

func readEcoTaxa(fsys fs.FS, tsv, name string) ([]Example, error) {
	f, err := fsys.Open(tsv)
	if err != nil {
		return nil, fmt.Errorf("EcoTaxa export %s: %w", name, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("EcoTaxa export %s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("EcoTaxa export %s is empty", name)
	}
	col := func(n string) int { return slices.Index(rows[0], n) }
	img, cat, status := col("img_file_name"), col("object_annotation_category"), col("object_annotation_status")
	if img < 0 || cat < 0 {
		return nil, fmt.Errorf("EcoTaxa export %s has no img_file_name and object_annotation_category columns: export it from EcoTaxa with the images", name)
	}
	var out []Example
	dir := path.Dir(tsv)
	for i, row := range rows[1:] {
		if i == 0 && len(row) > img && strings.HasPrefix(row[img], "[") { // the type row: [t], [f]
			continue
		}
		if len(row) <= max(img, cat) || row[cat] == "" || status >= 0 && (len(row) <= status || row[status] != store.StatusValidated) {
			continue
		}
		file := path.Join(dir, row[img])
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("EcoTaxa export %s line %d: %w", name, i+2, err)
		}
		out = append(out, BytesExample(name+":"+file, row[cat], "", data))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("EcoTaxa export %s has no validated objects: validate them in EcoTaxa (or in the Gallery) first", name)
	}
	return out, nil
}

// FromStore reads the validated crops of a session store (the Gallery's relabelled
// crops), keyed in the cache by their content: an object's ID is not enough, since
// SQLite gives a deleted object's ID to the next one stored.
func FromStore(ctx context.Context, st *store.Store) ([]Example, error) {
	var out []Example
	base := filepath.Base(st.Path())
	err := st.ValidatedCrops(ctx, func(c store.ValidatedCrop) error {
		ex := BytesExample(fmt.Sprintf("object %d of %s (sample %s)", c.ID, base, c.Sample), c.Validated, "", c.Crop)
		ex.OldLabel = c.Label
		out = append(out, ex)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("session store %s has no validated crops: relabel crops in the Gallery first, or teach from --labels LIST.csv", st.Path())
	}
	return out, nil
}

// Reference is the reference sample of a pack's own classes that teaching uses as
// negatives: the bundled NDSB val sample for the NDSB packs (their labels), none for
// other packs.
func Reference(p *inference.Pack) []Example {
	if !strings.HasPrefix(p.Name, "ndsb-plankton-121") {
		return nil
	}
	fsys := assets.Samples()
	f, err := fsys.Open("labels.csv")
	if err != nil {
		return nil
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		return nil
	}
	known := map[string]bool{}
	for _, l := range p.Labels {
		known[l] = true
	}
	var out []Example
	for _, row := range rows[1:] {
		if len(row) < 2 || !known[row[1]] {
			continue
		}
		name := row[0]
		out = append(out, Example{Label: row[1], Source: "built-in sample " + name, read: func() ([]byte, error) { return fs.ReadFile(fsys, name) }})
	}
	return out
}

// load reads the example's bytes and its cache key.
func (e *Example) load() ([]byte, error) {
	if e.read == nil {
		return nil, errors.New("no image")
	}
	data, err := e.read()
	if err != nil {
		return nil, err
	}
	if e.key == "" {
		e.key = contentKey(data)
	}
	return data, nil
}
