// Command challenge is the Lambda function behind the step-challenge routes
// (/v1/events...).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "ChallengeFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
