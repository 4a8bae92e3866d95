// Command social is the Lambda function behind the profile, group and
// friend routes (/v1/me/profile, /v1/groups..., /v1/friends...).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "SocialFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
