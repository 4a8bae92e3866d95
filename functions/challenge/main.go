// Command challenge is the Lambda function behind the step-challenge routes
// (/v1/events...).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
	"github.com/werun-sam/werun-sam/shared/challenge/sheet"
	"github.com/werun-sam/werun-sam/shared/usecases"
)

func main() {
	// The export's XLSX writer is linked here only, not in every function.
	h, err := app.Handler(context.Background(), "ChallengeFunction", func(c *usecases.Config) { c.Sheet = sheet.Write })
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
