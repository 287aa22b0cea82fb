package server

import (
	"context"

	"github.com/myappctl/myappctl/internal/settings"
)

// LiveNames are the settings the frontend takes from its Parameter Store
// path, and follows while it runs.
var LiveNames = []string{"APIURL"}

// ApplySettings returns the settings.ApplyFunc that serves the APIURL
// parameter, or else getenv's APIURL, from /config.json at once.
func (s *Server) ApplySettings(getenv func(string) string) settings.ApplyFunc {
	return func(_ context.Context, params map[string]string) error {
		return s.SetAPIURL(settings.Overlay(getenv, params, LiveNames...)("APIURL"))
	}
}
