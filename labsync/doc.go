// Package labsync keeps a bench's session store and its programme's lab server in step,
// offline first: what the bench records queues itself in the store's outbox, and a
// Syncer pushes it whenever the server can be reached (after a cut, when it returns)
// and pulls back the labels set elsewhere. Screening never waits for it.
package labsync
