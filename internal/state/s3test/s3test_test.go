package s3test

import (
	"os"
	"strings"
	"testing"
)

// TestSetupBuildsThisVersion keeps scripts/setup.sh and VersityGWVersion
// in step: the tests look for the binary setup.sh builds.
func TestSetupBuildsThisVersion(t *testing.T) {
	script, err := os.ReadFile("../../../scripts/setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VERSITYGW_VERSION=" + VersityGWVersion + "\n", `myappctl/versitygw-$VERSITYGW_VERSION"`, "github.com/versity/versitygw/cmd/versitygw@"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("scripts/setup.sh lacks %q", want)
		}
	}
}
