//go:build !race

package web_test

// raceBuild: Context panics on late calls in race builds.
const raceBuild = false
