"""What the app hands out as files: export documents (`documents`), the HTML report (`report`), the
catalogue of export files (`files`) and what `inspect-model` prints (`inspection`)."""
