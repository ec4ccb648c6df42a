//go:build race

package accounts_test

// raceBuild: the race detector slows bcrypt and the scheduler several
// times over, so the loop-lag test does not run under it.
const raceBuild = true
