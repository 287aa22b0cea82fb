// Command syncs3 is the syncS3Bucket Lambda (runtime provided.al2023): when images are added to or removed from
// the carousel bucket it rewrites carrousel/carrousel.json. Build it as "bootstrap" with -tags lambda.norpc.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	syncer, err := newSyncer(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("cannot start the carousel sync", "error", err)
		os.Exit(1)
	}
	lambda.Start(syncer.Handle)
}
