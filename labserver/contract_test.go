package labserver_test

import (
	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/labsync"
)

// *labserver.Server is the sync's server (checked here, in the external test package, so
// labserver itself need not import labsync).
var _ labsync.Server = (*labserver.Server)(nil)
