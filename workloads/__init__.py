"""The Django app of the workload kinds and the YAML editor.

    models.py   the rows of Deployments, ReplicaSets, Pods, Services, HorizontalPodAutoscalers
                and Ingresses (subclasses of clusters.models.ObjectRow; clusters.store reads and
                writes them)
    views.py    the editor: the page with its examples (the bundled lessons' first apply step),
                preview, apply and delete, all through clusters.services

Its URLs are in clusters/urls.py and its template in templates/workloads/.
"""
