from celery import shared_task


@shared_task(acks_late=True)
def claim_check(claim_id: int) -> str:
    """Look for a claim's proof on the claimed site (claims.services)."""
    from claims import services

    claim = services.claim_check_run(claim_id=claim_id)
    return claim.state if claim is not None else "missing"
