"""The pages a caller uses (issue 24): the top-up page per project and the caller's own view,
served by ``cardengine`` beside the API."""
