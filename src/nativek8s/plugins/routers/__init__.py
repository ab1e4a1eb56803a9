"""plugins/routers"""
