// Package app is the desktop app without its screens: the technician's settings and
// where they are kept, the services the screens use (the model and the one owner of its
// variant, runs as screening sessions, the session store, sources and cameras, alert
// rules, the quick measurement of the models) and their assembly from the machine. It
// imports no Fyne: package ui draws it, and its logic is tested without a window.
package app
