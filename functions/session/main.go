// Command session is the Lambda function behind POST /v1/session.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "SessionFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
