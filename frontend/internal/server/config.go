package server

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DefaultAPIURL is where the page looks for the API when APIURL is not set:
// the backend run locally with its default port (`make run-backend`).
const DefaultAPIURL = "http://localhost:8080"

// DefaultPort is the port the frontend listens on when PORT is not set; the
// frontend target group and security groups expect 80.
const DefaultPort = 80

// ParseAPIURL checks the API base URL the page will call and returns it in
// canonical form (no trailing slash). Empty means DefaultAPIURL.
func ParseAPIURL(raw string) (string, error) {
	apiURL, err := checkAPIURL(raw)
	if err != nil {
		return "", fmt.Errorf("APIURL %q %w", strings.TrimSpace(raw), err)
	}
	return apiURL, nil
}

// checkAPIURL is ParseAPIURL with errors that do not quote the value.
func checkAPIURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultAPIURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("must start with http:// or https://, e.g. http://backend-lb.example.com:8090")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", errors.New("has no host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", errors.New("must be a plain base URL without credentials, query or fragment")
	}
	if p := u.Port(); p != "" {
		if _, err := parsePortNumber(p); err != nil {
			return "", fmt.Errorf("has a bad port: %w", err)
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// ParsePort reads the PORT setting; empty means DefaultPort.
func ParsePort(raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultPort, nil
	}
	port, err := parsePortNumber(raw)
	if err != nil {
		return 0, fmt.Errorf("PORT %q: %w", raw, err)
	}
	return port, nil
}

func parsePortNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("port must be a number from 1 to 65535")
	}
	return n, nil
}
