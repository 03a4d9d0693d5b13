package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"gatewarden.dev/gatewarden/test/bench/worldgen"
)

// createWorld creates every object of w through the API with workers concurrent clients:
// the cluster-scoped objects first (namespaced objects need their Namespace), then the rest.
func createWorld(ctx context.Context, c client.Client, w *worldgen.World, workers int) (time.Duration, error) {
	var first, rest []client.Object
	for _, o := range w.Objects() {
		switch o.(type) {
		case *corev1.Namespace, *gwv1.GatewayClass:
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	total := len(first) + len(rest)
	var done atomic.Int64
	start := time.Now()
	stopProgress := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				n := done.Load()
				logf("world: %d/%d objects (%.0f/s)", n, total, float64(n)/time.Since(start).Seconds())
			}
		}
	})
	defer func() { close(stopProgress); progress.Wait() }()
	logf("world: creating %d objects with %d workers", total, workers)
	for _, phase := range [][]client.Object{first, rest} {
		if err := createAll(ctx, c, phase, workers, &done); err != nil {
			return 0, err
		}
	}
	took := time.Since(start)
	logf("world: %d objects in %s (%.0f/s)", total, took.Round(time.Millisecond), float64(total)/took.Seconds())
	return took, nil
}

func createAll(ctx context.Context, c client.Client, objs []client.Object, workers int, done *atomic.Int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan client.Object)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for o := range next {
				if err := create(ctx, c, o); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
feed:
	for _, o := range objs {
		select {
		case next <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// create creates o, retrying what an apiserver under load may answer for a while.
func create(ctx context.Context, c client.Client, o client.Object) error {
	var err error
	for attempt := range 10 {
		err = c.Create(ctx, o)
		switch {
		case err == nil, apierrors.IsAlreadyExists(err):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
			apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err):
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		default:
			return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
	}
	return fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
}
