"""The Django app of the workload kinds and the YAML editor.

    models.py   the rows of Deployments, ReplicaSets, Pods, Services, HorizontalPodAutoscalers
                and Ingresses (subclasses of clusters.models.ObjectRow, named by their kinds'
                registry entries; clusters.store reads and writes them)
    views.py    the editor: the page with its examples (the bundled lessons' first apply step),
                preview, apply and delete, all through clusters.services

    urls.py     the editor's URLs, included by kubelab/urls.py

Its template is in templates/workloads/. It depends on clusters, never the other way round.
"""
