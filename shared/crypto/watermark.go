package crypto

import (
	"errors"
	"time"
)

// DefaultMaxAge is how old a watermark may be by default: WeChat stamps the
// data when the mini program fetches it, and a client sends it at once.
const DefaultMaxAge = time.Hour

// maxFuture tolerates clock skew between WeChat and this server.
const maxFuture = 5 * time.Minute

// Errors of Watermark.Check.
var (
	ErrWrongApp = errors.New("crypto: open data belongs to another app")
	ErrStale    = errors.New("crypto: open data is too old or from the future")
)

// Watermark is the "watermark" object WeChat puts in every open-data
// plaintext: which app the data was produced for, and when (Unix seconds).
type Watermark struct {
	AppID     string `json:"appid"`
	Timestamp int64  `json:"timestamp"`
}

// Check accepts the watermark only for appid and a timestamp no older than
// maxAge (DefaultMaxAge if maxAge <= 0) and no more than five minutes in the
// future of now. An empty appid never matches.
func (w Watermark) Check(appid string, now time.Time, maxAge time.Duration) error {
	if appid == "" || w.AppID != appid {
		return ErrWrongApp
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	// Compare in seconds: a far-off timestamp must not overflow a Duration.
	age := now.Unix() - w.Timestamp
	if age > int64(maxAge/time.Second) || age < -int64(maxFuture/time.Second) {
		return ErrStale
	}
	return nil
}
