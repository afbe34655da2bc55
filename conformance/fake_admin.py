"""A fake FlyteAdmin on 127.0.0.1 for the tests of `register`, `run --remote` and `execution`
(crates/flytekit/tests/remote_admin.rs). No real FlyteAdmin can run on the test machines (Go).

    fake_admin.py --state-dir DIR [--auth] [--client ID:SECRET]... [--token-ttl S]
                  [--header-key KEY] [--projects P,...] [--deny CLIENT:PROJECT]...
                  [--tls-cert PEM --tls-key PEM] [--redirect-port N] [--outputs-by-url]
                  [--static-token T]

It serves flyteidl's generated servicers (AdminService, DataProxyService, AuthMetadataService,
SignalService) with grpcio and answers as FlyteAdmin 1.16 does for the calls a client uses:

* registration: unknown project/domain -> INVALID_ARGUMENT "failed to validate that project
  [p] and domain [d] are registered"; the same id with the same spec -> ALREADY_EXISTS; with
  another spec -> INVALID_ARGUMENT "<name> task with different structure already exists";
  a workflow whose tasks (or a launch plan whose workflow) are not registered -> INVALID_ARGUMENT;
* CreateUploadLocation: FlyteAdmin's native URL layout
  (s3://<bucket>/fake-admin-uploads/<project>/<domain>/<base32(md5)>/<filename>) and a
  presigned PUT on the S3 test server (FLYTEKIT_TEST_S3_* variables) signed for Content-MD5
  and the x-amz-meta-flytecontentmd5 metadata, returned as required headers (as stow does);
* executions move QUEUED -> RUNNING -> (node by node) -> SUCCEEDED one step per GetExecution;
  fixtures in DIR name their outputs (outputs/<name>.pb, a LiteralMap), a failure
  (fail/<name>.txt) or signals a gate waits for (signals/<name>.json: [{"id", "type":
  base64 LiteralType}]), where <name> is the last segment of the launch plan or task name;
  GetExecutionData returns the outputs inline, or with --outputs-by-url as a presigned GET;
* with --auth, every call but AuthMetadataService needs `<header-key>: Bearer <token>` from the
  OAuth2 server it runs beside (client credentials with --client pairs, refresh tokens,
  authorization code with PKCE, device code); expired or unknown tokens -> UNAUTHENTICATED;
  --deny CLIENT:PROJECT -> PERMISSION_DENIED for that client in that project; --static-token T
  is always valid (for `admin.command` tests).

Every call is appended to DIR/requests.jsonl ({"seq", "service", "method", "request": base64,
"json", "auth": <client id or null>, "code"}); token requests too ({"service": "oauth", ...}).
When ready it prints {"grpc_port": N, "oauth_port": M} on stdout.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from flyteidl.admin import (
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    signal_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2
from flyteidl.service import (
    admin_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    dataproxy_pb2,
    dataproxy_pb2_grpc,
    signal_pb2_grpc,
)
from google.protobuf import timestamp_pb2
from google.protobuf.json_format import MessageToDict

DOMAINS = ("development", "staging", "production")
UPLOAD_PREFIX = "fake-admin-uploads"
PUBLIC_CLIENT = "flytectl"


class State:
    """Everything the fake remembers, behind one lock."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.seq = 0
        self.log = open(os.path.join(args.state_dir, "requests.jsonl"), "a", buffering=1)
        self.projects = set(p for p in args.projects.split(",") if p)
        self.clients = dict(c.split(":", 1) for c in args.client)
        self.deny = set(tuple(d.split(":", 1)) for d in args.deny)
        self.entities = {}  # (resource_type, project, domain, name, version) -> spec bytes
        self.entity_specs = {}  # same key -> spec message
        self.lp_state = {}
        self.tokens = {}  # access token -> (client id, expiry)
        if args.static_token:
            self.tokens[args.static_token] = ("static", float("inf"))
        self.refresh_tokens = {}  # refresh token -> client id
        self.codes = {}  # authorization code -> (client, challenge, redirect)
        self.device_codes = {}  # device code -> polls left before approval
        self.executions = {}  # (project, domain, name) -> Execution
        self.s3 = s3_client()

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.write(json.dumps(entry, sort_keys=True) + "\n")

    def issue(self, client, refresh=False):
        token = "tok-" + secrets.token_hex(16)
        self.tokens[token] = (client, time.time() + self.args.token_ttl)
        out = {"access_token": token, "token_type": "bearer", "expires_in": self.args.token_ttl}
        if refresh:
            rt = "ref-" + secrets.token_hex(16)
            self.refresh_tokens[rt] = client
            out["refresh_token"] = rt
        return out


def s3_client():
    endpoint = os.environ.get("FLYTEKIT_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ.get("FLYTEKIT_TEST_S3_REGION", "garage"),
        aws_access_key_id=os.environ["FLYTEKIT_TEST_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["FLYTEKIT_TEST_S3_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def now_ts():
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def short(name):
    return name.rsplit(".", 1)[-1]


# --- gRPC plumbing: recording and authentication ------------------------------------------------


def recorded(service, state, needs_auth=True):
    """Wraps every RPC method of a servicer: checks the token, records the call and its status."""

    def wrap(name, fn):
        def method(self, request, context):
            client = None
            entry = {
                "service": service,
                "method": name,
                "request": base64.b64encode(request.SerializeToString(deterministic=True)).decode(),
                "json": MessageToDict(request),
                "code": "OK",
            }
            try:
                if needs_auth and state.args.auth:
                    client = authenticate(state, context)
                    entry["auth"] = client
                response = fn(self, request, context, client)
                if service == "DataProxyService":
                    entry["response"] = MessageToDict(response)
                return response
            except Exception:
                code = context.code() if hasattr(context, "code") else None
                entry["code"] = code.name if code is not None else "UNKNOWN"
                details = context.details() if hasattr(context, "details") else None
                entry["details"] = details.decode() if isinstance(details, bytes) else details
                raise
            finally:
                state.record(entry)

        method.__name__ = name
        return method

    def decorate(cls):
        for name in list(vars(cls)):
            fn = vars(cls)[name]
            if callable(fn) and name[:1].isupper():
                setattr(cls, name, wrap(name, fn))
        return cls

    return decorate


def authenticate(state, context):
    key = state.args.header_key.lower()
    value = dict((k.lower(), v) for k, v in context.invocation_metadata()).get(key)
    if not value or not value.startswith("Bearer "):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, f"request unauthenticated: no bearer token in '{key}'")
    token = value[len("Bearer ") :]
    with state.lock:
        found = state.tokens.get(token)
    if found is None:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "request unauthenticated: unknown token")
    client, expiry = found
    if time.time() > expiry:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "request unauthenticated: token expired")
    return client


def check_project(state, context, project, domain, client):
    if project not in state.projects:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"failed to validate that project [{project}] and domain [{domain}] are registered, "
            f"err: [missing entity of type project with identifier {project}]",
        )
    if domain not in DOMAINS:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"domain [{domain}] is unrecognized by system")
    if client is not None and (client, project) in state.deny:
        context.abort(grpc.StatusCode.PERMISSION_DENIED, f"client [{client}] may not access project [{project}]")


def key_of(ident):
    return (ident.resource_type, ident.project, ident.domain, ident.name, ident.version)


def id_text(ident):
    kind = identifier_pb2.ResourceType.Name(ident.resource_type)
    return f"{kind} {ident.project}/{ident.domain}/{ident.name}@{ident.version}"


# --- AdminService --------------------------------------------------------------------------------


def make_admin(state):
    @recorded("AdminService", state)
    class Admin(admin_pb2_grpc.AdminServiceServicer):
        def _create(self, context, client, ident, spec, kind, label):
            check_project(state, context, ident.project, ident.domain, client)
            if ident.resource_type != kind or not ident.name or not ident.version:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid identifier {id_text(ident)}")
            blob = spec.SerializeToString(deterministic=True)
            k = key_of(ident)
            with state.lock:
                old = state.entities.get(k)
                if old is None:
                    state.entities[k] = blob
                    state.entity_specs[k] = spec
                    return
            if old == blob:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{label} with identical structure already exists")
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{ident.name} {label} with different structure already exists. "
                f"(Please register a new version of the {label}):\n (fake admin: specs differ)",
            )

        def _require(self, context, ident, what):
            with state.lock:
                if key_of(ident) not in state.entities:
                    context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"failed to compile {what}: {id_text(ident)} is not registered",
                    )

        def _get(self, context, ident):
            with state.lock:
                spec = state.entity_specs.get(key_of(ident))
            if spec is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"missing entity of type {id_text(ident)}")
            return spec

        def CreateTask(self, request, context, client):
            if request.spec.template.id != request.id:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "task id and template id differ")
            self._create(context, client, request.id, request.spec, identifier_pb2.TASK, "task")
            return task_pb2.TaskCreateResponse()

        def CreateWorkflow(self, request, context, client):
            if request.spec.template.id != request.id:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "workflow id and template id differ")
            subs = {key_of(s.id) for s in request.spec.sub_workflows}
            for t in [request.spec.template, *request.spec.sub_workflows]:
                for ref in references(t.nodes):
                    if ref.resource_type == identifier_pb2.WORKFLOW and key_of(ref) in subs:
                        continue
                    self._require(context, ref, f"workflow {request.id.name}")
            self._create(context, client, request.id, request.spec, identifier_pb2.WORKFLOW, "workflow")
            return workflow_pb2.WorkflowCreateResponse()

        def CreateLaunchPlan(self, request, context, client):
            self._require(context, request.spec.workflow_id, f"launch plan {request.id.name}")
            self._create(context, client, request.id, request.spec, identifier_pb2.LAUNCH_PLAN, "launch plan")
            return launch_plan_pb2.LaunchPlanCreateResponse()

        def GetTask(self, request, context, client):
            return task_pb2.Task(id=request.id, closure=task_pb2.TaskClosure(created_at=now_ts()))

        def GetWorkflow(self, request, context, client):
            spec = self._get(context, request.id)
            return workflow_pb2.Workflow(id=request.id)

        def GetLaunchPlan(self, request, context, client):
            spec = self._get(context, request.id)
            return launch_plan_pb2.LaunchPlan(
                id=request.id,
                spec=spec,
                closure=launch_plan_pb2.LaunchPlanClosure(state=state.lp_state.get(key_of(request.id), 0)),
            )

        def UpdateLaunchPlan(self, request, context, client):
            self._get(context, request.id)
            check_project(state, context, request.id.project, request.id.domain, client)
            with state.lock:
                state.lp_state[key_of(request.id)] = request.state
            return launch_plan_pb2.LaunchPlanUpdateResponse()

        def CreateExecution(self, request, context, client):
            check_project(state, context, request.project, request.domain, client)
            target = request.spec.launch_plan
            spec = self._get(context, target)
            if target.resource_type == identifier_pb2.LAUNCH_PLAN:
                with state.lock:
                    wf = state.entity_specs[key_of(spec.workflow_id)]
                nodes = [n.id for n in wf.template.nodes]
                params = spec.default_inputs.parameters
                for name in request.inputs.literals:
                    if name not in params:
                        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid input {name}")
                for name, p in params.items():
                    if p.required and name not in request.inputs.literals:
                        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid input {name}: missing")
            else:
                nodes = ["n0"]
            name = request.name or ("a" + secrets.token_hex(10)[:19])
            ident = identifier_pb2.WorkflowExecutionIdentifier(
                project=request.project, domain=request.domain, name=name
            )
            with state.lock:
                if (request.project, request.domain, name) in state.executions:
                    context.abort(grpc.StatusCode.ALREADY_EXISTS, f"execution {name} already exists")
                state.executions[(request.project, request.domain, name)] = Execution(
                    state, ident, request.spec, request.inputs, short(target.name), nodes
                )
            return execution_pb2.ExecutionCreateResponse(id=ident)

        def RelaunchExecution(self, request, context, client):
            old = self._execution(context, request.id)
            check_project(state, context, request.id.project, request.id.domain, client)
            name = request.name or ("a" + secrets.token_hex(10)[:19])
            ident = identifier_pb2.WorkflowExecutionIdentifier(
                project=request.id.project, domain=request.id.domain, name=name
            )
            spec = execution_pb2.ExecutionSpec()
            spec.CopyFrom(old.spec)
            spec.metadata.mode = execution_pb2.ExecutionMetadata.RELAUNCH
            spec.metadata.reference_execution.CopyFrom(request.id)
            with state.lock:
                state.executions[(ident.project, ident.domain, name)] = Execution(
                    state, ident, spec, old.inputs, old.target, old.nodes
                )
            return execution_pb2.ExecutionCreateResponse(id=ident)

        def _execution(self, context, ident):
            with state.lock:
                e = state.executions.get((ident.project, ident.domain, ident.name))
            if e is None:
                context.abort(
                    grpc.StatusCode.NOT_FOUND,
                    f"missing entity of type execution with identifier {ident.project}/{ident.domain}/{ident.name}",
                )
            return e

        def GetExecution(self, request, context, client):
            e = self._execution(context, request.id)
            with state.lock:
                e.step()
                return e.message()

        def GetExecutionData(self, request, context, client):
            e = self._execution(context, request.id)
            with state.lock:
                resp = execution_pb2.WorkflowExecutionGetDataResponse(full_inputs=e.inputs)
                if e.phase == core_execution_pb2.WorkflowExecution.SUCCEEDED and e.outputs is not None:
                    if state.args.outputs_by_url:
                        key = f"fake-admin-outputs/{e.id.name}/outputs.pb"
                        bucket = os.environ["FLYTEKIT_TEST_S3_BUCKET"]
                        state.s3.put_object(Bucket=bucket, Key=key, Body=e.outputs.SerializeToString())
                        url = state.s3.generate_presigned_url(
                            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
                        )
                        resp.outputs.url = url
                        resp.outputs.bytes = e.outputs.ByteSize()
                    else:
                        resp.full_outputs.CopyFrom(e.outputs)
                return resp

        def ListNodeExecutions(self, request, context, client):
            e = self._execution(context, request.workflow_execution_id)
            with state.lock:
                return node_execution_pb2.NodeExecutionList(node_executions=e.node_messages())

        def TerminateExecution(self, request, context, client):
            e = self._execution(context, request.id)
            with state.lock:
                if e.terminal():
                    context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        f"Cannot abort an already terminated workflow execution: {e.phase_name()}",
                    )
                e.abort(request.cause, client or "anonymous")
            return execution_pb2.ExecutionTerminateResponse()

    return Admin()


def references(nodes):
    """Identifiers a workflow's nodes refer to (task nodes, launch plan and sub-workflow nodes,
    array nodes and branches included)."""
    out = []
    for n in nodes:
        kind = n.WhichOneof("target")
        if kind == "task_node":
            out.append(n.task_node.reference_id)
        elif kind == "workflow_node":
            w = n.workflow_node
            out.append(w.launchplan_ref if w.WhichOneof("reference") == "launchplan_ref" else w.sub_workflow_ref)
        elif kind == "array_node":
            out += references([n.array_node.node])
        elif kind == "branch_node":
            ie = n.branch_node.if_else
            out += references([ie.case.then_node, *[c.then_node for c in ie.other]])
            if ie.WhichOneof("default") == "else_node":
                out += references([ie.else_node])
    return out


class Execution:
    """One execution, advancing one step per GetExecution."""

    P = core_execution_pb2.WorkflowExecution
    N = core_execution_pb2.NodeExecution

    def __init__(self, state, ident, spec, inputs, target, nodes):
        self.id = ident
        self.spec = spec
        self.inputs = inputs
        self.target = target
        self.nodes = nodes
        self.tick = 0
        self.phase = self.P.QUEUED
        self.error = None
        self.abort_meta = None
        d = state.args.state_dir
        self.outputs = None
        path = os.path.join(d, "outputs", f"{target}.pb")
        if os.path.exists(path):
            self.outputs = literals_pb2.LiteralMap()
            self.outputs.ParseFromString(open(path, "rb").read())
        path = os.path.join(d, "fail", f"{target}.txt")
        self.fail = open(path).read().strip() if os.path.exists(path) else None
        path = os.path.join(d, "signals", f"{target}.json")
        self.signals = {}
        if os.path.exists(path):
            for s in json.load(open(path)):
                t = types_pb2.LiteralType()
                t.ParseFromString(base64.b64decode(s["type"]))
                self.signals[s["id"]] = [t, None]
        self.created = now_ts()

    def terminal(self):
        return self.phase in (self.P.SUCCEEDED, self.P.FAILED, self.P.ABORTED, self.P.TIMED_OUT)

    def phase_name(self):
        return self.P.Phase.Name(self.phase)

    def step(self):
        if self.terminal():
            return
        waiting = any(v is None for _, v in self.signals.values())
        if waiting and self.tick >= 1:
            return
        self.tick += 1
        if self.tick <= len(self.nodes) + 1:
            self.phase = self.P.RUNNING
            return
        if self.fail:
            self.phase = self.P.FAILED
            self.error = core_execution_pb2.ExecutionError(
                code="USER:ValueError", message=self.fail, kind=core_execution_pb2.ExecutionError.USER
            )
        else:
            self.phase = self.P.SUCCEEDED

    def abort(self, cause, principal):
        self.phase = self.P.ABORTED
        self.abort_meta = execution_pb2.AbortMetadata(cause=cause, principal=principal)

    def node_phase(self, i):
        if self.phase == self.P.ABORTED:
            return self.N.ABORTED if self.tick >= i + 1 else None
        if self.tick < i + 1:
            return None
        if self.tick == i + 1 and not self.terminal():
            return self.N.RUNNING
        if self.fail and i == len(self.nodes) - 1:
            return self.N.FAILED
        return self.N.SUCCEEDED

    def node_messages(self):
        out = []
        for i, node_id in enumerate(self.nodes):
            p = self.node_phase(i)
            if p is None:
                continue
            closure = node_execution_pb2.NodeExecutionClosure(phase=p, created_at=self.created)
            if p == self.N.FAILED:
                closure.error.CopyFrom(
                    core_execution_pb2.ExecutionError(code="USER:ValueError", message=self.fail)
                )
            out.append(
                node_execution_pb2.NodeExecution(
                    id=identifier_pb2.NodeExecutionIdentifier(node_id=node_id, execution_id=self.id),
                    closure=closure,
                    metadata=node_execution_pb2.NodeExecutionMetaData(spec_node_id=node_id),
                )
            )
        return out

    def message(self):
        closure = execution_pb2.ExecutionClosure(phase=self.phase, created_at=self.created)
        if self.error is not None:
            closure.error.CopyFrom(self.error)
        if self.abort_meta is not None:
            closure.abort_metadata.CopyFrom(self.abort_meta)
        return execution_pb2.Execution(id=self.id, spec=self.spec, closure=closure)


# --- DataProxyService, AuthMetadataService, SignalService ----------------------------------------


def make_data_proxy(state):
    @recorded("DataProxyService", state)
    class DataProxy(dataproxy_pb2_grpc.DataProxyServiceServicer):
        def CreateUploadLocation(self, request, context, client):
            if not request.project or not request.domain:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "project and domain are required parameters")
            if not request.content_md5 and not request.filename_root:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "content_md5 or filename_root is a required parameter")
            check_project(state, context, request.project, request.domain, client)
            filename = request.filename or secrets.token_hex(10)
            prefix = request.filename_root or base64.b32encode(request.content_md5).decode()
            bucket = os.environ["FLYTEKIT_TEST_S3_BUCKET"]
            key = "/".join([UPLOAD_PREFIX, request.project, request.domain, prefix, filename])
            md5 = base64.b64encode(request.content_md5).decode()
            params = {"Bucket": bucket, "Key": key, "ContentMD5": md5}
            headers = {"Content-Md5": md5}
            if request.add_content_md5_metadata:
                params["Metadata"] = {"flytecontentmd5": md5}
                headers["x-amz-meta-flytecontentmd5"] = md5
            url = state.s3.generate_presigned_url("put_object", Params=params, ExpiresIn=3600)
            return dataproxy_pb2.CreateUploadLocationResponse(
                signed_url=url, native_url=f"s3://{bucket}/{key}", headers=headers, expires_at=now_ts()
            )

    return DataProxy()


def make_auth_metadata(state, oauth_port):
    base = f"http://127.0.0.1:{oauth_port}"

    @recorded("AuthMetadataService", state, needs_auth=False)
    class AuthMetadata(auth_pb2_grpc.AuthMetadataServiceServicer):
        def GetOAuth2Metadata(self, request, context, client):
            return auth_pb2.OAuth2MetadataResponse(
                issuer=base,
                authorization_endpoint=f"{base}/authorize",
                token_endpoint=f"{base}/token",
                device_authorization_endpoint=f"{base}/device/code",
                grant_types_supported=["client_credentials", "authorization_code", "refresh_token"],
                code_challenge_methods_supported=["S256"],
            )

        def GetPublicClientConfig(self, request, context, client):
            return auth_pb2.PublicClientAuthConfigResponse(
                client_id=PUBLIC_CLIENT,
                redirect_uri=f"http://localhost:{state.args.redirect_port}/callback",
                scopes=["offline", "all"],
                authorization_metadata_key=state.args.header_key,
            )

    return AuthMetadata()


def make_signals(state):
    @recorded("SignalService", state)
    class Signals(signal_pb2_grpc.SignalServiceServicer):
        def ListSignals(self, request, context, client):
            ident = request.workflow_execution_id
            with state.lock:
                e = state.executions.get((ident.project, ident.domain, ident.name))
                if e is None:
                    context.abort(grpc.StatusCode.NOT_FOUND, "missing entity of type execution")
                out = []
                for sid, (t, v) in e.signals.items():
                    s = signal_pb2.Signal(
                        id=identifier_pb2.SignalIdentifier(signal_id=sid, execution_id=ident), type=t
                    )
                    if v is not None:
                        s.value.CopyFrom(v)
                    out.append(s)
                return signal_pb2.SignalList(signals=out)

        def SetSignal(self, request, context, client):
            ident = request.id.execution_id
            with state.lock:
                e = state.executions.get((ident.project, ident.domain, ident.name))
                if e is None or request.id.signal_id not in e.signals:
                    context.abort(grpc.StatusCode.NOT_FOUND, f"missing signal {request.id.signal_id}")
                t, v = e.signals[request.id.signal_id]
                if v is not None:
                    context.abort(grpc.StatusCode.ALREADY_EXISTS, "signal already set")
                if t.simple and request.value.scalar.primitive.WhichOneof("value") is None:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "signal value does not match its type")
                e.signals[request.id.signal_id][1] = request.value
            return signal_pb2.SignalSetResponse()

    return Signals()


# --- The OAuth2 server -----------------------------------------------------------------------------


def oauth_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            if url.path != "/authorize":
                return self.reply(404, {"error": "not_found"})
            state.record({"service": "oauth", "method": "authorize", "json": {k: q.get(k) for k in ("client_id", "scope", "code_challenge_method")}, "code": "OK"})
            if q.get("client_id") != PUBLIC_CLIENT or q.get("code_challenge_method") != "S256":
                return self.reply(400, {"error": "invalid_request"})
            code = "code-" + secrets.token_hex(8)
            with state.lock:
                state.codes[code] = (q["client_id"], q["code_challenge"], q["redirect_uri"])
            sep = "&" if "?" in q["redirect_uri"] else "?"
            location = f"{q['redirect_uri']}{sep}" + urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path == "/device/code":
                device = "dev-" + secrets.token_hex(8)
                with state.lock:
                    state.device_codes[device] = 1
                state.record({"service": "oauth", "method": "device_code", "json": {"client_id": form.get("client_id")}, "code": "OK"})
                return self.reply(200, {
                    "device_code": device,
                    "user_code": "ABCD-EFGH",
                    "verification_uri": f"http://127.0.0.1:{self.server.server_port}/device",
                    "expires_in": 60,
                    "interval": 1,
                })
            if self.path != "/token":
                return self.reply(404, {"error": "not_found"})
            grant = form.get("grant_type")
            entry = {"service": "oauth", "method": "token", "json": {"grant_type": grant, "scope": form.get("scope"), "audience": form.get("audience")}}
            status, body = self.token(grant, form)
            entry["code"] = "OK" if status == 200 else body.get("error")
            state.record(entry)
            return self.reply(status, body)

        def token(self, grant, form):
            with state.lock:
                if grant == "client_credentials":
                    auth = self.headers.get("Authorization", "")
                    client, secret = None, None
                    if auth.startswith("Basic "):
                        raw = base64.b64decode(auth[6:]).decode()
                        client, _, secret = raw.partition(":")
                        client, secret = urllib.parse.unquote_plus(client), urllib.parse.unquote_plus(secret)
                    else:
                        client, secret = form.get("client_id"), form.get("client_secret")
                    if client not in state.clients or state.clients[client] != secret:
                        return 401, {"error": "invalid_client", "error_description": "Bad client credentials"}
                    return 200, state.issue(client)
                if grant == "refresh_token":
                    client = state.refresh_tokens.pop(form.get("refresh_token"), None)
                    if client is None:
                        return 400, {"error": "invalid_grant", "error_description": "unknown refresh token"}
                    return 200, state.issue(client, refresh=True)
                if grant == "authorization_code":
                    found = state.codes.pop(form.get("code"), None)
                    if found is None:
                        return 400, {"error": "invalid_grant"}
                    client, challenge, redirect = found
                    verifier = form.get("code_verifier", "")
                    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                    if digest != challenge or form.get("redirect_uri") != redirect:
                        return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
                    return 200, state.issue(client, refresh=True)
                if grant == "urn:ietf:params:oauth:grant-type:device_code":
                    device = form.get("device_code")
                    if device not in state.device_codes:
                        return 400, {"error": "expired_token"}
                    if state.device_codes[device] > 0:
                        state.device_codes[device] -= 1
                        return 400, {"error": "authorization_pending"}
                    del state.device_codes[device]
                    return 200, state.issue(PUBLIC_CLIENT, refresh=True)
            return 400, {"error": "unsupported_grant_type"}

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--auth", action="store_true")
    ap.add_argument("--client", action="append", default=[])
    ap.add_argument("--token-ttl", type=int, default=3600)
    ap.add_argument("--header-key", default="authorization")
    ap.add_argument("--projects", default="flytesnacks")
    ap.add_argument("--deny", action="append", default=[])
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--redirect-port", type=int, default=53593)
    ap.add_argument("--outputs-by-url", action="store_true")
    ap.add_argument("--static-token", help="a token that is always valid (client 'static'), for token commands")
    args = ap.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    state = State(args)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), oauth_handler(state))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(make_admin(state), server)
    dataproxy_pb2_grpc.add_DataProxyServiceServicer_to_server(make_data_proxy(state), server)
    auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server(make_auth_metadata(state, httpd.server_port), server)
    signal_pb2_grpc.add_SignalServiceServicer_to_server(make_signals(state), server)
    if args.tls_cert:
        creds = grpc.ssl_server_credentials([(open(args.tls_key, "rb").read(), open(args.tls_cert, "rb").read())])
        port = server.add_secure_port("127.0.0.1:0", creds)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(json.dumps({"grpc_port": port, "oauth_port": httpd.server_port}), flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
