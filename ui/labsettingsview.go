package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/labsync"
)

// sslHints explain each TLS mode in a line.
var sslHints = map[string]string{
	"disable":     "no TLS: only on a network you trust end to end",
	"prefer":      "TLS when the server offers it, without checking who it is (the default)",
	"require":     "always TLS, without checking the server's certificate",
	"verify-ca":   "always TLS, and the server's certificate must come from the CA file below",
	"verify-full": "as verify-ca, and the certificate must name the host you connect to (recommended)",
}

// labStatusEvery is how often the Lab server tab reads the sync's state while it shows.
const labStatusEvery = 2 * time.Second

// labPanel is Settings › Lab server: where this bench's samples go to be shared with the
// programme (issue 16). The fields are saved with Settings' Save (LabServer.Apply); the
// password never reaches the preferences: it goes to the OS keyring, or is used for this
// session only, or comes from PHYTOSCREEN_LAB_PASSWORD. Test connection and the status
// block talk to the lab server on goroutines.
type labPanel struct {
	e   *env
	lab LabServer
	win fyne.Window

	Enabled      *widget.Check
	DSN          *widget.Entry
	SSLMode      *safeSelect
	sslHint      *widget.Label
	RootCert     *widget.Entry
	BenchName    *widget.Entry
	Password     *widget.Entry
	SavePassword *widget.Check
	PasswordFrom *widget.Label
	Forget       *widget.Button

	Test       *widget.Button
	testing    *widget.ProgressBarInfinite
	TestResult *widget.Label
	SyncNow    *widget.Button
	Message    *widget.Label // what Save did with the lab settings

	// The status block.
	State    *widget.Label
	Outbox   *widget.Label
	LastSync *widget.Label
	BenchID  *widget.Label

	content   fyne.CanvasObject
	stopTest  context.CancelFunc
	stopTick  context.CancelFunc
	statusGen int
	fromGen   int
}

// newLabPanel makes the Lab server tab of the settings window win.
func newLabPanel(e *env, win fyne.Window) *labPanel {
	p := &labPanel{e: e, lab: e.lab, win: win}
	p.Enabled = widget.NewCheck("Share this bench's samples with the programme's lab server", nil)
	p.DSN = widget.NewEntry()
	p.DSN.SetPlaceHolder("host=lab.example.org dbname=phytoscreen user=bench_a")
	p.sslHint = widget.NewLabel("")
	p.sslHint.Wrapping = fyne.TextWrapWord
	p.sslHint.SizeName = theme.SizeNameCaptionText
	p.SSLMode = newSafeSelect(p.win, app.LabSSLModes, func(m string) { p.sslHint.SetText(sslHints[m]) })
	p.RootCert = widget.NewEntry()
	p.RootCert.SetPlaceHolder("PEM file of the server's certificate authority (verify-ca, verify-full)")
	browse := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), p.chooseRootCert)
	p.BenchName = widget.NewEntry()
	p.BenchName.SetPlaceHolder("this computer's name")
	p.Password = widget.NewPasswordEntry()
	p.Password.SetPlaceHolder("leave empty to keep the password as it is")
	p.SavePassword = widget.NewCheck("Save password in the OS keyring", nil)
	p.SavePassword.SetChecked(true)
	p.PasswordFrom = widget.NewLabel("")
	p.PasswordFrom.Wrapping = fyne.TextWrapWord
	p.Forget = widget.NewButtonWithIcon("Forget saved password", theme.DeleteIcon(), p.forgetPassword)

	p.Test = widget.NewButtonWithIcon("Test connection", theme.ConfirmIcon(), p.RunTest)
	p.testing = widget.NewProgressBarInfinite()
	p.testing.Stop()
	p.testing.Hide()
	p.TestResult = widget.NewLabel("")
	p.TestResult.Wrapping = fyne.TextWrapWord
	p.SyncNow = widget.NewButtonWithIcon("Sync now", theme.ViewRefreshIcon(), func() {
		p.e.spawn(func(context.Context) { p.lab.SyncNow() })
		p.Message.SetText("Sync asked for: the status below shows when it is done.")
		p.RefreshStatus()
	})
	p.Message = widget.NewLabel("")
	p.Message.Wrapping = fyne.TextWrapWord

	p.State = widget.NewLabel("")
	p.State.Wrapping = fyne.TextWrapWord
	p.Outbox = widget.NewLabel("")
	p.LastSync = widget.NewLabel("")
	p.BenchID = widget.NewLabel("")
	p.BenchID.Selectable = true // to copy into the server's role set-up

	form := widget.NewForm(
		widget.NewFormItem("", p.Enabled),
		widget.NewFormItem("Connection string", p.DSN),
		widget.NewFormItem("TLS", container.NewVBox(p.SSLMode, p.sslHint)),
		widget.NewFormItem("CA certificate", container.NewBorder(nil, nil, nil, browse, p.RootCert)),
		widget.NewFormItem("Bench name", p.BenchName),
		widget.NewFormItem("Password", container.NewVBox(p.Password, container.NewHBox(p.SavePassword, p.Forget), p.PasswordFrom)),
	)
	form.Items[1].HintText = "keyword form or postgres://user@host/db; no password here (it would be kept in a plain file)"
	form.Items[4].HintText = "how the programme's views name this bench"
	status := widget.NewForm(
		widget.NewFormItem("Sync", p.State),
		widget.NewFormItem("Waiting to be pushed", p.Outbox),
		widget.NewFormItem("Last sync", p.LastSync),
		widget.NewFormItem("This bench's ID", p.BenchID),
	)
	intro := widget.NewLabel("Screening never waits for the server: what this bench records waits in its outbox and is pushed when the server can be reached. Save applies the settings and restarts the sync.")
	intro.Wrapping = fyne.TextWrapWord
	p.content = container.NewVScroll(container.NewVBox(
		intro, form,
		container.NewHBox(p.Test, p.SyncNow),
		p.testing, p.TestResult, p.Message,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Status", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		status,
	))
	p.fill(p.lab.Settings())
	return p
}

// chooseRootCert lets the user pick the CA certificate file.
func (p *labPanel) chooseRootCert() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err == nil && r != nil {
			p.RootCert.SetText(r.URI().Path())
			_ = r.Close()
		}
	}, p.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".pem", ".crt", ".cer"}))
	d.Show()
}

// fill puts the settings in the widgets.
func (p *labPanel) fill(s app.LabSettings) {
	p.Enabled.SetChecked(s.Enabled)
	p.DSN.SetText(s.DSN)
	mode := s.SSLMode
	if mode == "" {
		mode = app.DefaultSSLMode
	}
	p.SSLMode.SetSelected(mode)
	p.RootCert.SetText(s.RootCert)
	p.BenchName.SetText(s.BenchName)
	p.Password.SetText("")
	p.refreshPasswordFrom(s)
}

// read returns the settings the fields hold, checked.
func (p *labPanel) read() (app.LabSettings, error) {
	s := app.LabSettings{
		Enabled:   p.Enabled.Checked,
		DSN:       strings.TrimSpace(p.DSN.Text),
		SSLMode:   p.SSLMode.Selected,
		RootCert:  strings.TrimSpace(p.RootCert.Text),
		BenchName: strings.TrimSpace(p.BenchName.Text),
	}
	if err := s.Check(); err != nil {
		return s, fmt.Errorf("Lab server: %w", err)
	}
	return s, nil
}

// changed reports whether Save has anything to apply: other settings, or a password.
func (p *labPanel) changed(s app.LabSettings) bool {
	return s != p.lab.Settings() || p.Password.Text != ""
}

// apply hands checked settings (and the password typed, if any) to the lab server on a
// goroutine (the keyring and the sync's restart may take a moment) and says the outcome.
func (p *labPanel) apply(s app.LabSettings) {
	pw, keep := p.Password.Text, p.SavePassword.Checked
	p.Message.SetText("Saving the lab server settings…")
	p.e.spawn(func(context.Context) {
		err := p.lab.Apply(s, pw, keep)
		p.e.runOnUI(func() {
			notKept := errors.Is(err, app.ErrPasswordNotKept)
			if err != nil && !notKept {
				p.Message.SetText("Lab server settings not applied: " + err.Error())
				return
			}
			p.Password.SetText("") // kept where it belongs now, not in a widget
			switch {
			case notKept:
				p.Message.SetText("Saved; the sync restarted. The password is used until the app closes: " + err.Error() +
					" (set " + app.LabPasswordEnv + " for the app, or type the password again after a restart).")
			case !s.Enabled:
				p.Message.SetText("Saved: the sync is off; this bench keeps everything locally.")
			case pw != "" && keep:
				p.Message.SetText("Saved, with the password in the OS keyring; the sync restarted.")
			case pw != "":
				p.Message.SetText("Saved; the password is used until the app closes (not kept). The sync restarted.")
			default:
				p.Message.SetText("Saved; the sync restarted.")
			}
			p.refreshPasswordFrom(s)
			p.RefreshStatus()
		})
	})
}

// refreshPasswordFrom says, on a goroutine (the keyring answers over D-Bus), where the
// password of s comes from.
func (p *labPanel) refreshPasswordFrom(s app.LabSettings) {
	p.fromGen++
	gen := p.fromGen
	if strings.TrimSpace(s.DSN) == "" {
		p.PasswordFrom.SetText("Password: none (no server named yet).")
		return
	}
	p.e.spawn(func(context.Context) {
		from, err := p.lab.PasswordFrom(s)
		p.e.runOnUI(func() {
			if gen != p.fromGen {
				return
			}
			p.PasswordFrom.SetText(passwordFromText(from, err))
		})
	})
}

// passwordFromText is the line under the password field.
func passwordFromText(from string, err error) string {
	switch {
	case from == app.PasswordFromEnv:
		return "Password: from the environment (" + app.LabPasswordEnv + "), which wins over the keyring."
	case from == app.PasswordFromKeyring:
		return "Password: from the OS keyring."
	case from == app.PasswordTyped:
		return "Password: typed for this session, not kept: type it again after a restart, or save it in the OS keyring."
	case err != nil:
		return "Password: none found — " + err.Error()
	}
	return "Password: none saved: the server must accept this bench without one (a .pgpass file, a local socket), or type it above."
}

// forgetPassword removes the saved password from the keyring.
func (p *labPanel) forgetPassword() {
	s := p.lab.Settings()
	p.e.spawn(func(context.Context) {
		err := p.lab.ForgetPassword(s)
		p.e.runOnUI(func() {
			if err != nil {
				p.Message.SetText("The password was not removed: " + err.Error())
				return
			}
			p.Message.SetText("The saved password was removed from the OS keyring.")
			p.refreshPasswordFrom(s)
		})
	})
}

// RunTest connects once with the settings the fields hold (not saved) and shows what it
// reached or why it could not.
func (p *labPanel) RunTest() {
	if p.stopTest != nil {
		return
	}
	s, err := p.read()
	if err == nil && s.DSN == "" {
		err = errors.New("Lab server: write the connection string first, e.g. host=lab.example.org dbname=phytoscreen user=bench_a")
	}
	if err != nil {
		p.TestResult.SetText("Not tested: " + err.Error())
		return
	}
	pw := p.Password.Text
	ctx, cancel := context.WithTimeout(p.e.ctx, labTimeout)
	p.stopTest = cancel
	p.Test.Disable()
	p.testing.Show()
	p.testing.Start()
	p.TestResult.SetText("Connecting to the lab server…")
	p.e.spawn(func(context.Context) {
		msg, err := p.lab.Test(ctx, s, pw)
		p.e.runOnUI(func() {
			cancel()
			p.stopTest = nil
			p.Test.Enable()
			p.testing.Stop()
			p.testing.Hide()
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				p.TestResult.SetText(fmt.Sprintf("✗ No answer within %s: check the host name and that the network reaches the server (port 5432 open?).", labTimeout))
			case errors.Is(err, context.Canceled):
				p.TestResult.SetText("Test cancelled.")
			case err != nil:
				p.TestResult.SetText("✗ Could not connect: " + err.Error())
			default:
				p.TestResult.SetText("✓ " + msg)
			}
		})
	})
}

// shown starts the status block's refresh every labStatusEvery; hidden stops it.
func (p *labPanel) shown() {
	if p.stopTick != nil {
		return
	}
	ctx, cancel := context.WithCancel(p.e.ctx)
	p.stopTick = cancel
	p.RefreshStatus()
	p.e.spawn(func(context.Context) {
		t := time.NewTicker(labStatusEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.e.runOnUI(func() {
					if ctx.Err() == nil {
						p.RefreshStatus()
					}
				})
			}
		}
	})
}

// hidden stops what the panel runs: the status refresh and a test.
func (p *labPanel) hidden() {
	if p.stopTick != nil {
		p.stopTick()
		p.stopTick = nil
	}
}

// stop ends everything, when the settings window closes.
func (p *labPanel) stop() {
	p.hidden()
	if p.stopTest != nil {
		p.stopTest()
	}
}

// RefreshStatus reads the sync's state on a goroutine and shows it.
func (p *labPanel) RefreshStatus() {
	p.statusGen++
	gen := p.statusGen
	p.e.spawn(func(context.Context) {
		st, id := p.lab.Status(), p.lab.BenchID()
		p.e.runOnUI(func() {
			if gen != p.statusGen {
				return
			}
			p.showStatus(st, id)
		})
	})
}

// showStatus fills the status block (UI goroutine).
func (p *labPanel) showStatus(st labsync.Status, id string) {
	switch {
	case !st.Configured:
		p.State.SetText("Off: no lab server configured; this bench keeps everything locally.")
	case st.Connected:
		p.State.SetText(fmt.Sprintf("Connected · %d pushed and %d labels pulled since launch", st.Pushed, st.Pulled))
	case st.Refused:
		// The server answered and said no: not a network matter (helper-40: "Offline
		// … when the server returns" while it was up and refused an empty password).
		p.State.SetText("Refused: the server is up but did not accept this bench's login (user name or password): type the password above and Save, or ask the programme's admin. Screening goes on; the outbox waits.\nLast error: " + st.LastError)
	default:
		t := "Offline: screening goes on and the outbox is pushed when the server returns."
		if st.LastError != "" {
			t += "\nLast error: " + st.LastError
		}
		p.State.SetText(t)
	}
	if st.Pending == 0 {
		p.Outbox.SetText("nothing waits")
	} else {
		t := fmt.Sprintf("%d change%s", st.Pending, plural(st.Pending))
		if !st.Oldest.IsZero() {
			t += ", oldest queued " + st.Oldest.Local().Format("2006-01-02 15:04:05")
		}
		p.Outbox.SetText(t)
	}
	if st.LastSync.IsZero() {
		p.LastSync.SetText("never")
	} else {
		p.LastSync.SetText(st.LastSync.Local().Format("2006-01-02 15:04:05"))
	}
	if id == "" {
		id = "(made when the session store is opened)"
	}
	p.BenchID.SetText(id)
}
