"""KubeLab: a simulated Kubernetes cluster to teach with."""
