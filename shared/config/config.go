// Package config owns how a function reads its configuration: plain
// environment variables with defaults, secrets given either directly in the
// environment (local) or as the name of an SSM Parameter Store SecureString
// (deployed), and the one aws.Config every function builds its clients from.
//
// Functions read their configuration once per container, at init. The
// exceptions are SSM secrets that rotate: Fresh re-reads one periodically
// and Reread on demand (a credential refused), both cheap when nothing is
// due. No error returned here ever contains a secret value: only variable
// and parameter names.
package config

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// ErrMissing is matched (errors.Is) by every *MissingError.
var ErrMissing = errors.New("config: missing")

// ErrInvalid is matched by errors about a set but unparsable variable.
var ErrInvalid = errors.New("config: invalid")

// MissingError names the variables of which one must be set.
type MissingError struct {
	Vars []string
}

func (e *MissingError) Error() string {
	return "config: set " + strings.Join(e.Vars, " or ")
}

// Is makes errors.Is(err, ErrMissing) true.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// Secret returns the secret called name: the value of env var name if set
// (local runs), else the decrypted SSM SecureString whose parameter name is
// in env var name+"_PARAM" (deployed), else a *MissingError. SSM values are
// cached per parameter for the life of the container; Fresh and Reread
// replace them.
func Secret(ctx context.Context, name string) (string, error) {
	return secret(ctx, name, func(*cached, time.Time) bool { return false })
}

// Fresh returns the secret called name as Secret does, re-reading an SSM
// value read more than maxAge ago. Each read adds a random part of up to a
// quarter of maxAge to it, so containers started together spread their
// reads over time. When a re-read fails, Fresh returns the value read
// before along with the error, and tries again maxAge later.
func Fresh(ctx context.Context, name string, maxAge time.Duration) (string, error) {
	return secret(ctx, name, func(c *cached, now time.Time) bool {
		return now.Sub(c.read) >= maxAge+time.Duration(c.spread*float64(maxAge))
	})
}

// Reread returns the secret called name as Secret does, after reading an
// SSM value again: the caller has seen it refused. Re-reads are at least
// minGap apart (plus a random part of up to a quarter of it): SSM allows
// an account some tens of GetParameter calls a second, and many containers
// may see a refusal at once. Between them, and when a re-read fails (the
// error is returned with it), the value read before is returned.
func Reread(ctx context.Context, name string, minGap time.Duration) (string, error) {
	return secret(ctx, name, func(c *cached, now time.Time) bool {
		if !c.demanded.IsZero() && now.Sub(c.demanded) < minGap+time.Duration(c.spread*float64(minGap)) {
			return false
		}
		c.demanded = now
		return true
	})
}

// cached is an SSM value and when it was read.
type cached struct {
	value    string
	read     time.Time // the last read, successful or not
	demanded time.Time // the last re-read Reread did
	spread   float64   // in [0, 0.25), drawn at each read
}

var (
	secretsMu sync.Mutex
	secrets   = map[string]*cached{} // by SSM parameter name
	// now is the clock of the re-reads; tests move it.
	now = time.Now
)

// secret reads name from the environment or SSM; due says, under
// secretsMu, whether a cached value must be read again.
func secret(ctx context.Context, name string, due func(*cached, time.Time) bool) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	param := getenv(name + "_PARAM")
	if param == "" {
		return "", &MissingError{Vars: []string{name, name + "_PARAM"}}
	}
	t := now()
	secretsMu.Lock()
	c, ok := secrets[param]
	if ok && !due(c, t) {
		v := c.value
		secretsMu.Unlock()
		return v, nil
	}
	if ok {
		c.read, c.spread = t, rand.Float64()/4
	}
	secretsMu.Unlock()
	v, err := readParameter(ctx, name, param)
	secretsMu.Lock()
	defer secretsMu.Unlock()
	if err != nil {
		if ok {
			return c.value, err
		}
		return "", err
	}
	if !ok {
		c = &cached{read: t, spread: rand.Float64() / 4}
		secrets[param] = c
	}
	c.value = v
	return v, nil
}

// readParameter reads one SSM parameter; its errors name the variable and
// the parameter, never a value.
func readParameter(ctx context.Context, name, param string) (string, error) {
	cfg, err := AWS(ctx)
	if err != nil {
		return "", err
	}
	v, err := getParameter(ctx, cfg, param)
	if err != nil {
		// The error names the operation and the service's error code,
		// never a parameter value.
		return "", fmt.Errorf("config: %s: read SSM parameter %q: %w", name, param, err)
	}
	if v == "" {
		return "", fmt.Errorf("config: %s: SSM parameter %q is empty: %w", name, param, ErrInvalid)
	}
	return v, nil
}

// lookedUp is every variable this package has looked up in the process, so
// that a test can compare what a function reads with what the template
// declares for it (Read). Every read goes through getenv.
var lookedUp sync.Map

func getenv(name string) string {
	lookedUp.Store(name, struct{}{})
	return os.Getenv(name)
}

// Read returns the names of the variables looked up so far, sorted.
func Read() []string {
	var names []string
	lookedUp.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	sort.Strings(names)
	return names
}

// Env returns env var name, or def when it is unset or empty.
func Env(name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// Required returns env var name, or a *MissingError when it is unset or empty.
func Required(name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	return "", &MissingError{Vars: []string{name}}
}

// Duration parses env var name as a Go duration ("1h", "90s"); def when
// unset. Zero or negative durations are invalid.
func Duration(name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: %s=%q is not a positive Go duration such as 1h: %w", name, v, ErrInvalid)
	}
	return d, nil
}

// Int parses env var name as a base-10 integer; def when unset.
func Int(name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("config: %s=%q is not an integer: %w", name, v, ErrInvalid)
	}
	return n, nil
}

// List splits env var name at commas, trimming the spaces around each
// entry and dropping empty ones; nil when unset or empty.
func List(name string) []string {
	var list []string
	for _, e := range strings.Split(getenv(name), ",") {
		if e = strings.TrimSpace(e); e != "" {
			list = append(list, e)
		}
	}
	return list
}

// MaxAttempts and MaxBackoff bound the SDK's standard retryer for every
// client built from AWS: a Lambda has seconds, not minutes, so a throttled
// call gives up quickly and the caller answers 503. The context deadline
// bounds the whole thing too: the retryer stops sleeping when ctx is done.
const (
	MaxAttempts = 5
	MaxBackoff  = time.Second
	// AttemptTimeout bounds one HTTP try of an AWS call. DynamoDB answers
	// in milliseconds; a try past this is a stalled connection.
	AttemptTimeout = 2 * time.Second
)

var (
	awsMu  sync.Mutex
	awsCfg *aws.Config
)

// AWS builds the AWS configuration once per container from the
// environment Lambda gives every function: AWS_REGION (or
// AWS_DEFAULT_REGION), the execution role's AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the SDK's endpoint
// overrides for local runs (AWS_ENDPOINT_URL_<SERVICE>, e.g.
// AWS_ENDPOINT_URL_DYNAMODB, declared in the template), with the bounded
// standard retryer.
//
// It does not use the SDK's config.LoadDefaultConfig: its credential chain
// (profiles, SSO, STS web identity, IMDS) is never used in Lambda, and
// linking it costs every cold start its package init and a larger binary
// (docs/PERFORMANCE.md). A failed build is not cached.
func AWS(ctx context.Context) (aws.Config, error) {
	awsMu.Lock()
	defer awsMu.Unlock()
	if awsCfg != nil {
		return *awsCfg, nil
	}
	region := Env("AWS_REGION", getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, &MissingError{Vars: []string{"AWS_REGION"}}
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, &MissingError{Vars: []string{"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}}
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			key, secret, getenv("AWS_SESSION_TOKEN"))),
		Retryer:       NewRetryer,
		ConfigSources: []any{envEndpoints{}},
		// Each try, not the call: a connection that accepts and never
		// answers is given up and retried, within the caller's deadline.
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(AttemptTimeout),
	}
	awsCfg = &cfg
	return cfg, nil
}

// envEndpoints gives service clients the SDK's per-service endpoint
// variable, AWS_ENDPOINT_URL_<SDK ID in upper case, spaces as _>.
type envEndpoints struct{}

func (envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}

// NewRetryer is the standard retryer with this project's bounds. It retries
// throttling (ThrottlingException, ProvisionedThroughputExceededException,
// RequestLimitExceeded), 5xx and transport errors with jittered exponential
// backoff. The client-side retry quota is off: under heavy throttling it
// would turn retries into immediate failures across the whole container.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
		o.RateLimiter = ratelimit.None
	})
}
