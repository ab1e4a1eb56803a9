"""plugins/nodeos"""
