// Package settings is the contract between myappctl and the services it
// deploys: a tier's runtime settings live in SSM Parameter Store under
// /myappctl/<stack>/<tier>/<NAME>, and each instance reports what it runs as
// a small JSON object in the stack's artifacts bucket. The CLI writes the
// parameters and waits on the reports; the backend and frontend read the
// parameters and write the reports. Both sides compute the same Version.
package settings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// Path is the parameter path of a tier's settings: /myappctl/<stack>/<tier>/.
func Path(stack, tier string) string { return "/myappctl/" + stack + "/" + tier + "/" }

// Version identifies a set of settings: the first 8 bytes (hex) of the
// SHA-256 of the JSON list of [name, value] pairs sorted by name. It changes
// when any name or value does, not with their order, and reveals nothing of
// the values.
func Version(values map[string]string) string {
	names := slices.Sorted(maps.Keys(values))
	pairs := make([][2]string, len(names))
	for i, n := range names {
		pairs[i] = [2]string{n, values[n]}
	}
	data, _ := json.Marshal(pairs) // strings always marshal
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Report statuses.
const (
	StatusInstalled = "installed" // the install script put the release in place and started it
	StatusRunning   = "running"   // the service runs the release with SettingsVersion applied
	StatusFailed    = "failed"    // installing failed; Log holds the tail of the install log
)

// ReportPrefix is where reports live in the artifacts bucket.
const ReportPrefix = "reports/"

// ReportKey is the object an instance of a tier writes its report to.
func ReportKey(tier, instanceID string) string {
	return ReportPrefix + tier + "/" + instanceID + ".json"
}

// MaxLogLines is how much of the install log a failed report carries.
const MaxLogLines = 50

// Report is what an instance says about itself.
type Report struct {
	Stack    string `json:"stack"`
	Tier     string `json:"tier"`
	Instance string `json:"instance"`
	Status   string `json:"status"`
	// Release is the SHA-256 (hex) of the binary the instance runs.
	Release string `json:"release"`
	// SettingsVersion is Version of the settings the service applied.
	SettingsVersion string `json:"settingsVersion,omitempty"`
	// SettingsError is why the last read or apply of the settings failed
	// (the service keeps the last good ones); empty when it succeeded.
	SettingsError string `json:"settingsError,omitempty"`
	// Log is the tail of the install log (failed reports).
	Log  []string  `json:"log,omitempty"`
	Time time.Time `json:"time"`
}

var (
	releasePattern  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	instancePattern = regexp.MustCompile(`^i-[0-9a-zA-Z]+$`)
)

// ParseReport decodes and checks a report.
func ParseReport(data []byte) (Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return Report{}, fmt.Errorf("not a report: %w", err)
	}
	switch {
	case r.Status != StatusInstalled && r.Status != StatusRunning && r.Status != StatusFailed:
		return Report{}, fmt.Errorf("report has an unknown status %q", r.Status)
	case !instancePattern.MatchString(r.Instance):
		return Report{}, fmt.Errorf("report names no instance (%q)", r.Instance)
	case r.Release != "" && !releasePattern.MatchString(r.Release):
		return Report{}, fmt.Errorf("report has a malformed release %q", r.Release)
	}
	return r, nil
}
