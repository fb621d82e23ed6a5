package report

import (
	"strings"

	"github.com/go-pdf/fpdf"
)

// textPDF is the PDF every report writes through: its text methods make their text valid
// UTF-8 first. fpdf's UTF-8 fonts convert text to UTF-16 by its bytes and panic on bytes
// that are not UTF-8 (helper-82: a sample ID typed so). The names of samples, sites and
// files come from the session store, which may hold such bytes from before they were
// refused; a report shows them with U+FFFD where they were.
type textPDF struct{ *fpdf.Fpdf }

// newPDF is an A4 portrait page in millimetres.
func newPDF() textPDF { return textPDF{fpdf.New("P", "mm", "A4", "")} }

// validText is s with each byte that is not UTF-8 as U+FFFD (s itself when valid).
func validText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func (p textPDF) CellFormat(w, h float64, txt, border string, ln int, align string, fill bool, link int, linkStr string) {
	p.Fpdf.CellFormat(w, h, validText(txt), border, ln, align, fill, link, linkStr)
}

func (p textPDF) MultiCell(w, h float64, txt, border, align string, fill bool) {
	p.Fpdf.MultiCell(w, h, validText(txt), border, align, fill)
}

func (p textPDF) GetStringWidth(s string) float64 { return p.Fpdf.GetStringWidth(validText(s)) }

func (p textPDF) SetTitle(title string, isUTF8 bool) { p.Fpdf.SetTitle(validText(title), isUTF8) }

func (p textPDF) SetCreator(creator string, isUTF8 bool) {
	p.Fpdf.SetCreator(validText(creator), isUTF8)
}
