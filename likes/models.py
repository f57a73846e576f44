"""Connected accounts and the likes seen on them."""
