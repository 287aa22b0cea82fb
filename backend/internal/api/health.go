package api

import (
	"context"
	"net/http"
)

type healthBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// health answers 200 only when the database answers a ping in time; the load
// balancer takes the instance out of service otherwise.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.healthTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Reason: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
}
