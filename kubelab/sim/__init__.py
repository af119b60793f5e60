"""The simulated Kubernetes v1.34 cluster: pure Python, no Django.

One module per box of the usual architecture diagram: ``apiserver`` (manifests,
validation, defaulting, admission, apply), ``scheduler``, ``controllers``, ``kubelet``,
``kube_proxy``; ``state`` holds every object of one cluster and ``control_loop`` runs a tick.
"""

from __future__ import annotations

KUBERNETES_VERSION = "v1.34.2"
