package steps

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lambdaBinary is the file `make build` cross-builds from lambda/syncs3;
// the provided.al2023 runtime runs the file named bootstrap.
const lambdaBinary = "bootstrap"

// maxDirectUpload is Lambda's limit for a zip sent in the request itself.
const maxDirectUpload = 50 << 20

// zipEpoch is every zip entry's time, so the same binary always gives the
// same zip and the same hash: code is uploaded again only when it changed.
var zipEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// codePackage is the function's deployment package and its hash as Lambda
// reports it (CodeSha256: base64 of the SHA-256 of the zip).
type codePackage struct {
	zip    []byte
	sha256 string
	// unknown says why there is no package (planning before `make build`).
	unknown error
}

// lambdaPackage zips artifactsDir/bootstrap in memory, deterministically.
func lambdaPackage(artifactsDir string) (codePackage, error) {
	path := filepath.Join(artifactsDir, lambdaBinary)
	bin, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return codePackage{}, fmt.Errorf("the carousel Lambda binary %s does not exist: run `make build` first (it cross-builds lambda/syncs3 into %s)", path, artifactsDir)
	case err != nil:
		return codePackage{}, fmt.Errorf("read the carousel Lambda binary: %w", err)
	case len(bin) == 0:
		return codePackage{}, fmt.Errorf("the carousel Lambda binary %s is empty: run `make build` first", path)
	}
	zipped, err := zipExecutable(lambdaBinary, bin)
	if err != nil {
		return codePackage{}, fmt.Errorf("zip %s: %w", path, err)
	}
	if len(zipped) > maxDirectUpload {
		return codePackage{}, fmt.Errorf("the zipped Lambda (%d MB) exceeds Lambda's 50 MB direct-upload limit: build it with `make build` (stripped)", len(zipped)>>20)
	}
	sum := sha256.Sum256(zipped)
	return codePackage{zip: zipped, sha256: base64.StdEncoding.EncodeToString(sum[:])}, nil
}

// zipExecutable makes a zip holding one file with mode 0755 and a fixed time.
func zipExecutable(name string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
