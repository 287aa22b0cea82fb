// Package e2e drives the page in a real headless Chromium against the frontend
// server and a real backend process. It has only tests; see page_test.go.
package e2e
