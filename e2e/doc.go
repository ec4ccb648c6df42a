// Package e2e drives the real chat server with real browsers.
package e2e
