// Command account is the Lambda function behind GET /v1/me/export and DELETE /v1/me.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "AccountFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
