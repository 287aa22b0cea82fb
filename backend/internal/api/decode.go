package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// requestError is a client mistake: its status and a message that says what is wrong.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// decodeJSON reads a body holding exactly one JSON object into dst, rejecting
// unknown fields, wrong types and bodies over MaxBodyBytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) *requestError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describeDecodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil && isTooLarge(err) {
			return describeDecodeError(err)
		}
		return badRequest("request body must hold a single JSON object, but more follows it")
	}
	return nil
}

func isTooLarge(err error) bool {
	var tooLarge *http.MaxBytesError
	return errors.As(err, &tooLarge)
}

func describeDecodeError(err error) *requestError {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case isTooLarge(err):
		return &requestError{status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body too large: the limit is %d bytes", MaxBodyBytes)}
	case errors.Is(err, io.EOF):
		return badRequest(`request body is empty: send a JSON object such as {"title": "buy milk"}`)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syntaxErr):
		return badRequest("malformed JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return badRequest("request body must be a JSON object, not %s", article(typeErr.Value))
		}
		return badRequest("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.String()), article(typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json reports unknown fields only by message.
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return badRequest("unknown field %s: a todo has title, label and completed", field)
	}
	return badRequest("cannot read the request body: %v", err)
}

// jsonKind names the JSON type that a Go field type expects.
func jsonKind(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "bool":
		return "a boolean (true or false)"
	}
	return "a JSON object"
}

func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "a boolean"
	case "null":
		return "null"
	}
	return "a " + kind
}
