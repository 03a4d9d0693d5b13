package admission

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: gwv1.GroupName, Resource: resource}, name)
}
