package ioloop

import "time"

// acceptRetryDelay is how long accepting pauses after an accept error (the
// process is out of file descriptors, usually); connections wait in the
// kernel's backlog meanwhile. Short enough that a freed descriptor is used
// soon, long enough that a loop out of descriptors does not spin.
const acceptRetryDelay = 50 * time.Millisecond
