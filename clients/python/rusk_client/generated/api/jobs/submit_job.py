from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.job_spec import JobSpec
from ...models.job_view import JobView
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: JobSpec,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ErrorBody | JobView | None:
    if response.status_code == 200:
        response_200 = JobView.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = JobView.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = cast(Any, None)
        return response_413

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | ErrorBody | JobView]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobSpec,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Any | ErrorBody | JobView]:
    """Submit a job.

     The spec is validated and planned before anything is stored: unknown sources, columns,
    bad expressions or forbidden SQL are refused with 422 and no job is created.

    Args:
        idempotency_key (None | str | Unset):
        body (JobSpec): A job: a pipeline over named sources that produces one dataframe. Example:
            {'name': 'user-metrics', 'output': {'format': 'parquet'}, 'sources': {'logs': {'format':
            'csv', 'path': 'data/large-data-*.csv'}}, 'steps': [{'expr': "status = 'active'", 'op':
            'filter'}, {'columns': {'total_spend': 'subscription_cost + add_on_cost'}, 'op':
            'assign'}, {'agg': {'click_count': 'max', 'session_duration': 'mean', 'total_spend':
            'sum'}, 'by': ['user_id'], 'op': 'groupby'}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody | JobView]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: JobSpec,
    idempotency_key: None | str | Unset = UNSET,
) -> Any | ErrorBody | JobView | None:
    """Submit a job.

     The spec is validated and planned before anything is stored: unknown sources, columns,
    bad expressions or forbidden SQL are refused with 422 and no job is created.

    Args:
        idempotency_key (None | str | Unset):
        body (JobSpec): A job: a pipeline over named sources that produces one dataframe. Example:
            {'name': 'user-metrics', 'output': {'format': 'parquet'}, 'sources': {'logs': {'format':
            'csv', 'path': 'data/large-data-*.csv'}}, 'steps': [{'expr': "status = 'active'", 'op':
            'filter'}, {'columns': {'total_spend': 'subscription_cost + add_on_cost'}, 'op':
            'assign'}, {'agg': {'click_count': 'max', 'session_duration': 'mean', 'total_spend':
            'sum'}, 'by': ['user_id'], 'op': 'groupby'}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody | JobView
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobSpec,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Any | ErrorBody | JobView]:
    """Submit a job.

     The spec is validated and planned before anything is stored: unknown sources, columns,
    bad expressions or forbidden SQL are refused with 422 and no job is created.

    Args:
        idempotency_key (None | str | Unset):
        body (JobSpec): A job: a pipeline over named sources that produces one dataframe. Example:
            {'name': 'user-metrics', 'output': {'format': 'parquet'}, 'sources': {'logs': {'format':
            'csv', 'path': 'data/large-data-*.csv'}}, 'steps': [{'expr': "status = 'active'", 'op':
            'filter'}, {'columns': {'total_spend': 'subscription_cost + add_on_cost'}, 'op':
            'assign'}, {'agg': {'click_count': 'max', 'session_duration': 'mean', 'total_spend':
            'sum'}, 'by': ['user_id'], 'op': 'groupby'}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorBody | JobView]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: JobSpec,
    idempotency_key: None | str | Unset = UNSET,
) -> Any | ErrorBody | JobView | None:
    """Submit a job.

     The spec is validated and planned before anything is stored: unknown sources, columns,
    bad expressions or forbidden SQL are refused with 422 and no job is created.

    Args:
        idempotency_key (None | str | Unset):
        body (JobSpec): A job: a pipeline over named sources that produces one dataframe. Example:
            {'name': 'user-metrics', 'output': {'format': 'parquet'}, 'sources': {'logs': {'format':
            'csv', 'path': 'data/large-data-*.csv'}}, 'steps': [{'expr': "status = 'active'", 'op':
            'filter'}, {'columns': {'total_spend': 'subscription_cost + add_on_cost'}, 'op':
            'assign'}, {'agg': {'click_count': 'max', 'session_duration': 'mean', 'total_spend':
            'sum'}, 'by': ['user_id'], 'op': 'groupby'}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorBody | JobView
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
