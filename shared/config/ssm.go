package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// getParameter is SSM's GetParameter with decryption: one SigV4-signed
// JSON 1.1 POST, retried on throttling and 5xx like the SDK's standard
// retryer. It is made by hand, not with the SDK's ssm package, because
// that package's init (its serde schemas) alone costs more than a bare Go
// function's whole cold start, and every function would pay it at init,
// whether it reads SSM or not (docs/PERFORMANCE.md, cold start).
//
// The endpoint is AWS_ENDPOINT_URL_SSM (the SDK's variable, declared in the
// template for local runs), else the region's public endpoint.
func getParameter(ctx context.Context, cfg aws.Config, name string) (string, error) {
	body, err := json.Marshal(map[string]any{"Name": name, "WithDecryption": true})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	var hc interface {
		Do(*http.Request) (*http.Response, error)
	} = http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	signer := v4.NewSigner()
	backoff := 50 * time.Millisecond
	var lastErr error
	for attempt := range MaxAttempts {
		if attempt > 0 {
			// Full jitter: containers throttled together retry apart.
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(rand.N(backoff) + 1):
			}
			backoff = min(backoff*2, MaxBackoff)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return "", fmt.Errorf("credentials: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ssmEndpoint(cfg)+"/", bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
		if err := signer.SignHTTP(ctx, creds, req, hash, "ssm", cfg.Region, time.Now()); err != nil {
			return "", err
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			lastErr = fmt.Errorf("GetParameter: %w", err)
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = fmt.Errorf("GetParameter: %w", err)
			continue
		}
		if resp.StatusCode == http.StatusOK {
			var out struct {
				Parameter *struct{ Value string }
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return "", fmt.Errorf("GetParameter: unreadable answer: %w", ErrInvalid)
			}
			if out.Parameter == nil {
				return "", nil
			}
			return out.Parameter.Value, nil
		}
		// Only the error code goes into the error, never the body.
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(raw, &e)
		code := e.Type[strings.LastIndex(e.Type, "#")+1:]
		lastErr = fmt.Errorf("GetParameter: HTTP %d %s", resp.StatusCode, code)
		if resp.StatusCode < 500 && code != "ThrottlingException" && code != "TooManyRequestsException" {
			return "", lastErr
		}
	}
	return "", lastErr
}

func ssmEndpoint(cfg aws.Config) string {
	if ep := getenv("AWS_ENDPOINT_URL_SSM"); ep != "" {
		return strings.TrimRight(ep, "/")
	}
	if strings.HasPrefix(cfg.Region, "cn-") {
		return "https://ssm." + cfg.Region + ".amazonaws.com.cn"
	}
	return "https://ssm." + cfg.Region + ".amazonaws.com"
}
