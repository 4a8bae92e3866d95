// Command opendata is the Lambda function behind POST /v1/werun/cloudid.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "OpenDataFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
