package admission

import (
	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// RequestLogger is a LogConstructor for controller-runtime's admission.Webhook. Its lines
// carry the fields of admission.DefaultLogConstructor (object, namespace, name, resource,
// user, requestID), but the fields are attached only when a line is written.
//
// controller-runtime builds a request logger twice per review, and a zap logger encodes
// the values given to WithValues at once, whether a line follows or not; on a webhook that
// logs nothing for nearly every review, that was 7 % of the server's CPU time.
func RequestLogger(base logr.Logger, req *admission.Request) logr.Logger {
	if req == nil {
		return base
	}
	return logr.New(&deferredSink{base: base, req: req})
}

// deferredSink writes through base, with req's fields and values added only when it writes.
type deferredSink struct {
	base   logr.Logger
	req    *admission.Request
	values []any
}

var (
	_ logr.LogSink          = (*deferredSink)(nil)
	_ logr.CallDepthLogSink = (*deferredSink)(nil)
)

// logger is base with the request's fields and the values added so far. Two frames (this
// sink's method and logr.Logger's) sit between the caller and base's sink.
func (s *deferredSink) logger() logr.Logger {
	l := admission.DefaultLogConstructor(s.base, s.req)
	if len(s.values) > 0 {
		l = l.WithValues(s.values...)
	}
	return l.WithCallDepth(2)
}

func (s *deferredSink) Init(logr.RuntimeInfo) {}

func (s *deferredSink) Enabled(level int) bool { return s.base.V(level).Enabled() }

func (s *deferredSink) Info(level int, msg string, keysAndValues ...any) {
	s.logger().V(level).Info(msg, keysAndValues...)
}

func (s *deferredSink) Error(err error, msg string, keysAndValues ...any) {
	s.logger().Error(err, msg, keysAndValues...)
}

func (s *deferredSink) WithValues(keysAndValues ...any) logr.LogSink {
	values := append(s.values[:len(s.values):len(s.values)], keysAndValues...)
	return &deferredSink{base: s.base, req: s.req, values: values}
}

func (s *deferredSink) WithName(name string) logr.LogSink {
	return &deferredSink{base: s.base.WithName(name), req: s.req, values: s.values}
}

func (s *deferredSink) WithCallDepth(depth int) logr.LogSink {
	return &deferredSink{base: s.base.WithCallDepth(depth), req: s.req, values: s.values}
}
