"""The digital library's JSON API, one router per concern, mounted under /api/digital/."""

from ninja import Router

from kitobxon.digital.api import downloads, files, loans, reading

router = Router()
router.add_router("/", files.router)
router.add_router("/", reading.router)
router.add_router("/", loans.router)
router.add_router("/", downloads.router)
