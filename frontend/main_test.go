package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestRunRejectsBadSettings(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := map[string][2]string{ // name: PORT, APIURL
		"APIURL without scheme": {"8081", "backend-lb:8090"},
		"APIURL not http":       {"8081", "ftp://backend"},
		"PORT not a number":     {"http", "http://localhost:8080"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv("PORT", c[0])
			t.Setenv("APIURL", c[1])
			err := run(context.Background(), logger)
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			if want := strings.Fields(name)[0]; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}
