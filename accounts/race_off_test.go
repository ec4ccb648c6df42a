//go:build !race

package accounts_test

const raceBuild = false
