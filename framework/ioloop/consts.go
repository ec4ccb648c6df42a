package ioloop

import "time"

// acceptRetryDelay is how long accepting pauses when the process is out of
// file descriptors; connections wait in the kernel's backlog meanwhile.
const acceptRetryDelay = 50 * time.Millisecond
