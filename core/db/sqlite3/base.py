"""Django's SQLite backend, told how many parameters this SQLite really takes per statement.

Django 5.2 assumes the pre-2020 limit of 999, so a 5,000-row bulk insert becomes 70 statements.
SQLite 3.32+ takes 32,766 by default; Python 3.11 can ask the library for its actual limit.
"""

import sqlite3

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self.features.max_query_params = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return connection
