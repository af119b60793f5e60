"""The Django app around a simulated cluster: its store, its one writer, and its doors.

The cluster's state lives in the database; ``kubelab.sim`` does the simulating, and this app
loads it, writes it and carries it to people:

    models.py            Cluster (clock, rv, seq, engine state, reconcile lease), ObjectRow (the
                         abstract row of every stored kind; each kind's registry entry names its
                         model), the Namespace and Node rows, Event, Decision (the scheduler's
                         records), Classroom, Membership
    services/            the only code that writes a cluster: one locked transaction per change,
                         one delta after commit (session); writes, ticks, clusters, classrooms,
                         reads (its package docstring says which module holds what)
    store.py             ClusterState <-> rows of every kind the registry stores: one query per
                         kind to load, only changes saved
    events.py            the one place deltas, watch events and reconciler nudges are sent from
                         (after commit)
    wire.py              what browsers receive: object views, snapshots, deltas, pseudonyms
    worker.py            the reconcile worker: leases clusters and ticks them through services
    consumers.py         the WebSocket /ws/clusters/<slug>/: snapshot, then deltas; client messages
    routing.py           the WebSocket URL patterns
    access.py            who may do what: a request's user and session -> an Actor and its role
    views.py             the cluster view and state.json, describe, the node, pod, clock, load
                         and reset controls, the console
    classroom_views.py   sign-up, classrooms, the dashboard and its controls, joining, the projector
    kubectl_api.py       the kubectl subset over the service layer (console, manage.py kubectl)
    apiserver.py         the Kubernetes API over HTTP (/k8s/<token>/…): authenticates the token,
                         answers with kubelab.sim.apiserver.rest inside services.api_call
    credentials.py       API tokens (an HMAC per person, nothing stored) and kubeconfigs
    watch.py             API watches: one Hub per watched cluster and process (a channel in the
                         group watch.<cluster>, a history), streamed as newline-delimited JSON
    urls.py              the app's URLs (the editor's are in workloads/urls.py: this app imports
                         nothing from workloads; workloads builds on it)
    apps.py              SQLite in WAL mode, and the WAL checkpointer ``up`` runs
    management/commands/ up, reconcile, create_cluster, kubectl, kubeconfig, simulate

The protocol, the DOM hooks and the processes are described in the README.
"""
