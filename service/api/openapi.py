"""``GET /openapi.json``: the OpenAPI 3 document, generated from the routes' schemas.

Each view declares its summary, body schema and response schemas with
``@documented``, beside its route; at start the app walks its URL map and
hands those marshmallow schemas to apispec, so the document cannot drift
from the schemas that actually validate requests and shape responses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from infoshare.engine import Policy
from infoshare.service.access.auth import open_to_anyone, roles_with
from infoshare.service.errors import PROBLEM_JSON, ApiError
from infoshare.service.requestlog import route_template
from infoshare.service.state import snapshot

View = TypeVar("View", bound=Callable)
TITLE = "infoshare"
DESCRIPTION = (
    "Decides whether information about a child or adult may be shared, with whom, on what "
    "basis and under what conditions, from a declarative policy; records every decision with "
    "its rationale. Every /v1 call needs 'Authorization: Bearer <key>' "
    "(`infoshare keys create --role ...`)."
)
BodyFactory = Callable[[type[Schema]], type[Schema]]
# Each blueprint's operations are grouped under one tag; a blueprint not named here is tagged
# with its own name.
TAGS = {
    "decisions": ("decisions", "Record a verdict, read a decision or a case file."),
    "reviews": ("reviews", "The Safeguarding Co-ordinator's reviews and the queue of decisions awaiting one."),
    "queue": ("reviews", "The Safeguarding Co-ordinator's reviews and the queue of decisions awaiting one."),
    "events": ("events", "What happened, in order, for a client to follow."),
    "evaluate": ("evaluate", "A verdict without a record: the policy owner's what-if."),
    "interview": ("interview", "The verdict so far and the questions that can still change it."),
    "policy": ("policy", "The answering policy, its version history and its reload."),
    "health": ("health", "Liveness and readiness for load balancers and containers."),
}


class ErrorSchema(Schema):
    """An RFC 9457 problem document; ``messages`` and ``request_id`` are its extension members."""

    type = fields.String(required=True, metadata={"description": "Always `about:blank`: `title` says the kind."})
    title = fields.String(required=True, metadata={"description": "The HTTP status's name."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(required=True, metadata={"description": "What went wrong, in words."})
    error = fields.String(required=True, metadata={"description": "The same as `detail` (kept for older clients)."})
    messages = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Field name to the problems with it; nested for nested fields."},
    )
    request_id = fields.String(
        required=True, metadata={"description": "Also in the service's log line for this request."}
    )


def documented(
    summary: str,
    *,
    responses: dict[int, tuple[str, Schema | type[Schema] | None]],
    body: type[Schema] | BodyFactory | None = None,
    path_params: Mapping[str, tuple[str | dict[str, Any], str]] | None = None,
    query_params: Mapping[str, tuple[str | dict[str, Any], str]] | None = None,
    header_params: Mapping[str, tuple[str | dict[str, Any], str]] | None = None,
    response_headers: Mapping[int, Mapping[str, str]] | None = None,
    operation_id: str | None = None,
) -> Callable[[View], View]:
    """Attach an OpenAPI operation to a view. ``body`` makes the request schema from the
    policy's facts schema (so it follows a reload), or is a fixed Schema class;
    ``path_params``, ``query_params`` and ``header_params`` (optional request headers):
    name -> (type or JSON schema, description); ``response_headers``: status -> name -> description;
    ``operation_id``, the name generated clients give the call (default: the view's name
    in camelCase)."""

    def decorate(view: View) -> View:
        head, *rest = view.__name__.split("_")
        view.openapi = {  # type: ignore[attr-defined]
            "operation_id": operation_id or head + "".join(word.title() for word in rest),
            "summary": summary,
            "description": inspect.cleandoc(view.__doc__ or ""),
            "responses": responses,
            "body": body,
            "path_params": path_params or {},
            "query_params": query_params or {},
            "header_params": header_params or {},
            "response_headers": response_headers or {},
        }
        return view

    return decorate


def body_factories(app: Flask) -> list[BodyFactory]:
    """The request-body schema factories of the app's documented views."""
    bodies = [getattr(v, "openapi", {}).get("body") for v in app.view_functions.values()]
    return list(dict.fromkeys(b for b in bodies if b is not None and not isinstance(b, type)))


def _operation(view: Callable, facts: type[Schema], blueprint: str) -> dict:
    doc = view.openapi  # type: ignore[attr-defined]
    operation: dict = {
        "operationId": doc["operation_id"],
        "tags": [TAGS.get(blueprint, (blueprint, ""))[0]],
        "summary": doc["summary"],
        "description": doc["description"],
    }
    responses = {
        str(status): _response(text, ErrorSchema if schema is None and status >= 400 else schema)
        for status, (text, schema) in doc["responses"].items()
    }
    for status, headers in doc["response_headers"].items():
        responses[str(status)]["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    permission = getattr(view, "permission", None)
    if permission:
        roles = roles_with(permission)
        operation["security"] = [{"bearerAuth": []}]
        operation["description"] += f"\n\nRoles allowed: {', '.join(roles)}."
        responses["401"] = _response("No key, a wrong key or a revoked key.", ErrorSchema)
        responses["403"] = _response(f"The key's role is not one of: {', '.join(roles)}.", ErrorSchema)
        responses["429"] = _response(
            "This client's rate limit is reached, or (with no valid key) this address's; "
            "Retry-After says when to retry.",
            ErrorSchema,
        )
    elif getattr(view, "open_to_anyone", False):
        responses["429"] = _response(
            "This address has made too many requests without a key; Retry-After says when to retry.", ErrorSchema
        )
    if doc["body"] is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body if isinstance(body := doc["body"], type) else body(facts)}},
        }
        responses["400"] = _response(
            "Malformed JSON, unknown fields, wrong types or values not allowed; `messages` names each field.",
            ErrorSchema,
        )
        responses["413"] = _response(
            "The body is larger than 1 MiB, however it is sent (a Content-Length or chunked).", ErrorSchema
        )
        responses["415"] = _response("The body is declared as a format other than JSON.", ErrorSchema)
    parameters = [
        {
            "name": name,
            "in": where,
            "required": where == "path",
            "schema": kind if isinstance(kind, dict) else {"type": kind},
            "description": text,
        }
        for where, params in (
            ("path", doc["path_params"]),
            ("query", doc["query_params"]),
            ("header", doc["header_params"]),
        )
        for name, (kind, text) in params.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    responses.setdefault(
        "400",
        _response(
            "A query parameter the route does not take or given twice, or (where it takes one) "
            "a value not allowed; `messages` names it.",
            ErrorSchema,
        ),
    )
    if doc["path_params"]:
        responses.setdefault(
            "404",
            _response("The path names nothing here (for instance a parameter with a line break in it).", ErrorSchema),
        )
    operation["responses"] = responses
    return operation


def refuse_undocumented_query_parameters() -> None:
    """Before a request: a query parameter its route does not document is a 400, as an unknown
    body field is, so a misspelt option is never silently ignored; so is one given twice
    (``?explain=as-decided&explain=x``), since which one counts would be a guess. A request
    with no query string has none to look at (most of them: the check is then free)."""
    if not request.query_string:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    doc = getattr(view, "openapi", None)
    if doc is None:
        return
    unknown = sorted(set(request.args) - set(doc["query_params"]))
    if unknown:
        raise ApiError(
            400, "unknown query parameters; see messages", {name: ["Unknown query parameter."] for name in unknown}
        )
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise ApiError(
            400,
            "a query parameter is given more than once; see messages",
            {name: ["Give it once."] for name in repeated},
        )


def _response(description: str, schema: Schema | type[Schema] | None) -> dict:
    if schema is None:
        return {"description": description}
    media = PROBLEM_JSON if schema is ErrorSchema else "application/json"
    return {"description": description, "content": {media: {"schema": schema}}}


def api_version(policy: Policy) -> str:
    """The document changes when the policy does (its allowed values are the policy's), so its
    version is the policy's, with the digest as build metadata: `2.0.0+sha256.5d1ea8c95553`."""
    return f"{policy.version}+sha256.{policy.digest[:12]}"


def build_spec(app: Flask, facts: type[Schema], policy: Policy) -> dict:
    """The OpenAPI document for every documented route of ``app``, for ``policy``, whose facts ``facts`` validates."""
    spec = APISpec(
        title=TITLE,
        version=api_version(policy),
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    names: dict[str, str] = {}
    tags: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "openapi"):
            continue
        path = route_template(rule.rule)
        blueprint = rule.endpoint.rpartition(".")[0]
        tag, about = TAGS.get(blueprint, (blueprint, ""))
        tags.setdefault(tag, about)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = _operation(view, facts, blueprint)
            if names.setdefault(operation["operationId"], rule.endpoint) != rule.endpoint:
                raise ValueError(f"operationId {operation['operationId']} names two views; give one `operation_id=`")
            paths.setdefault(path, {})[method.lower()] = operation
    for tag, about in sorted(tags.items()):
        spec.tag({"name": tag, "description": about} if about else {"name": tag})
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
@open_to_anyone
def openapi_document() -> ResponseReturnValue:
    return jsonify(snapshot().openapi)
