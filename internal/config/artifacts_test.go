package config

import (
	"strings"
	"testing"
)

func TestArtifactsDirDefaultsToTheMakeOutputAndMustBeSet(t *testing.T) {
	c := Defaults()
	if c.ArtifactsDir != "dist/linux-amd64" {
		t.Errorf("default artifacts_dir = %q", c.ArtifactsDir)
	}
	c.ArtifactsDir = " "
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "artifacts_dir:") {
		t.Errorf("blank artifacts_dir: err = %v", err)
	}
}
