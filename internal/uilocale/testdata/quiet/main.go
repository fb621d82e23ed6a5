// Command quiet starts Fyne's widgets after uilocale and prints the language Fyne
// found: the test runs it under C locales and checks that Fyne logs no error.
package main

import (
	_ "github.com/phytoscreen/phytoscreen/internal/uilocale"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

func main() {
	_ = widget.NewLabel(lang.L("Cancel"))
	println(lang.SystemLocale().LanguageString())
}
