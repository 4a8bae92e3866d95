// Command steps is the Lambda function behind GET /v1/steps and GET /v1/steps/summary.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/api"
	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	svc, err := app.Service(context.Background(), app.Needs{SessionTokens: true})
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(api.Steps(svc))
}
