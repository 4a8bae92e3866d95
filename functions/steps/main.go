// Command steps is the Lambda function behind GET /v1/steps and GET /v1/steps/summary.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "StepsFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
