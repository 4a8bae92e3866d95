package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"unsafe"
)

// Errors of Decrypt and Encrypt. The first four mean the request itself is
// malformed; ErrDecrypt means it is well-formed but does not decrypt under
// this key.
var (
	ErrBase64         = errors.New("crypto: input is not valid standard base64")
	ErrKeySize        = errors.New("crypto: session key must be 16 bytes")
	ErrIVSize         = errors.New("crypto: iv must be 16 bytes")
	ErrCiphertextSize = errors.New("crypto: ciphertext must be a non-empty whole number of 16-byte blocks")
	// ErrDecrypt covers a wrong key, a bad padding and a plaintext that is
	// not a JSON object alike: one outward error, so that no caller can be
	// turned into a padding oracle.
	ErrDecrypt = errors.New("crypto: data does not decrypt with this session key")
)

const blockSize = aes.BlockSize

// Decrypt decrypts WeChat open data: encryptedData, sessionKey and iv are
// standard base64 (padded). A space is read as '+', because a '+' that went
// through URL form decoding arrives as a space; '\r' and '\n' are ignored as
// the decoder always does. Other surrounding whitespace is not trimmed: a
// leading or trailing space may be a mangled '+'.
//
// The ciphertext is decoded into one buffer and decrypted in place; the
// returned plaintext aliases that buffer. Decrypt never panics.
func Decrypt(sessionKey, encryptedData, iv string) ([]byte, error) {
	block, ivb, err := newBlock(sessionKey, iv)
	if err != nil {
		return nil, err
	}
	src, err := b64Source(encryptedData)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(buf, src)
	if err != nil {
		return nil, ErrBase64
	}
	ct := buf[:n]
	if n == 0 || n%blockSize != 0 {
		return nil, ErrCiphertextSize
	}
	cipher.NewCBCDecrypter(block, ivb[:]).CryptBlocks(ct, ct)
	pt, ok := unpad(ct)
	// WeChat open data is always a JSON object: a first byte other than '{'
	// means the wrong key as surely as a bad padding does.
	if !ok || len(pt) == 0 || pt[0] != '{' {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Encrypt is Decrypt's inverse, for tests and the WeChat simulator: it pads
// plaintext with PKCS#7, encrypts it with AES-128-CBC and returns standard
// base64.
func Encrypt(sessionKey, iv string, plaintext []byte) (string, error) {
	block, ivb, err := newBlock(sessionKey, iv)
	if err != nil {
		return "", err
	}
	pad := blockSize - len(plaintext)%blockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, ivb[:]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// newBlock decodes the base64 session key and iv, both exactly 16 bytes,
// and returns the AES-128 cipher and the iv.
func newBlock(sessionKey, iv string) (cipher.Block, [blockSize]byte, error) {
	var key, ivb [blockSize]byte
	if err := decodeFixed(&key, sessionKey, ErrKeySize); err != nil {
		return nil, ivb, err
	}
	if err := decodeFixed(&ivb, iv, ErrIVSize); err != nil {
		return nil, ivb, err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil { // unreachable: the key is 16 bytes
		return nil, ivb, ErrKeySize
	}
	return block, ivb, nil
}

// unpad checks PKCS#7 strictly (pad length 1..16, every pad byte equal to
// it) over the whole last block without data-dependent branches.
func unpad(b []byte) ([]byte, bool) {
	n := len(b)
	if n < blockSize || n%blockSize != 0 {
		return nil, false
	}
	p := int(b[n-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, blockSize)
	for i := 1; i <= blockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, p)
		same := subtle.ConstantTimeByteEq(b[n-i], byte(p))
		// A byte inside the pad must equal p; one outside may be anything.
		good &= same | (inPad ^ 1)
	}
	if good != 1 {
		return nil, false
	}
	return b[:n-p], true
}

// decodeFixed decodes a base64 value that must be exactly 16 bytes without
// touching the heap on the usual path.
func decodeFixed(dst *[blockSize]byte, s string, sizeErr error) error {
	src, err := b64Source(s)
	if err != nil {
		return err
	}
	var tmp [48]byte
	if base64.StdEncoding.DecodedLen(len(src)) > len(tmp) {
		// Far too long for 16 bytes; tell garbage from a wrong size.
		if _, err := base64.StdEncoding.DecodeString(string(src)); err != nil {
			return ErrBase64
		}
		return sizeErr
	}
	n, err := base64.StdEncoding.Decode(tmp[:], src)
	if err != nil {
		return ErrBase64
	}
	if n != blockSize {
		return sizeErr
	}
	copy(dst[:], tmp[:n])
	return nil
}

// b64Source returns s as bytes for the base64 decoder, with spaces turned
// back into '+'. The usual input has no space and is viewed in place:
// base64.Encoding.Decode only reads its source, so the string's immutable
// bytes are never written.
func b64Source(s string) ([]byte, error) {
	if strings.IndexByte(s, ' ') >= 0 {
		s = strings.ReplaceAll(s, " ", "+")
	}
	if s == "" {
		return nil, nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s)), nil
}
